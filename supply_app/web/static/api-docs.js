// Starts Swagger UI on /api/docs over the spec named by the page (a static file, so the
// content policy needs no inline script). No validator badge: it would load an outside image.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    validatorUrl: null,
  });
})();
