// Shows the codes a case will bill as nerves are ticked: 64640 once per anterior-knee
// nerve, 64624 once for the genicular nerves (modifier 52 when fewer than three), C9809
// for the device. The server derives and prices the codes; this is only a preview.
(function () {
  "use strict";
  var form = document.getElementById("case-form");
  if (!form) return;
  var out = document.getElementById("codes");

  function ticked(name) {
    return form.querySelectorAll('input[name="' + name + '"]:checked').length;
  }

  function update() {
    var codes = [];
    var anterior = ticked("anterior");
    var genicular = ticked("genicular");
    if (anterior) codes.push("64640 × " + anterior);
    if (genicular) codes.push("64624 × 1" + (genicular < 3 ? " (modifier 52: " + genicular + " of 3 nerves)" : ""));
    if (form.querySelector('input[name="device"]:checked')) codes.push("C9809 × 1");
    out.textContent = codes.length ? codes.join(", ") : "— tick the nerves treated";
  }

  form.addEventListener("change", update);
  update();
})();
