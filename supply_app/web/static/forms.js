// Every page: long forms that help.
// * A refused form's error summary takes focus (and scrolls into view, on a tablet too);
//   its links put the cursor in the field, opening any collapsed section around it.
// * A collapsed section (<details>) that holds an error is opened.
// * In a form marked data-enter-never-submits, Enter in a text field or on a checkbox does
//   nothing (a scanner's Enter or a stray key never records a case); buttons still submit.
// * A select marked data-not-same-as=NAME never offers the choice made in select NAME
//   (a transfer's destination is never its source).
// * A lot field follows the facility: its list (a <datalist> per facility) switches with it.
(function () {
  "use strict";

  function focusField(id) {
    var target = document.getElementById(id);
    if (!target) return;
    var details = target.closest("details");
    if (details) details.open = true;
    if (!target.matches("input, select, textarea, button")) {
      target = target.querySelector("input, select, textarea") || target;
    }
    target.focus();
    target.scrollIntoView({ block: "center" });
  }

  document.querySelectorAll("details").forEach(function (details) {
    if (details.querySelector(".has-error, [aria-invalid='true'], .error-summary")) details.open = true;
  });

  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
    summary.scrollIntoView({ block: "start" });
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary a[data-field]");
    if (!link) return;
    event.preventDefault();
    focusField(link.getAttribute("data-field"));
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    var field = event.target;
    if (!field.form || !field.form.hasAttribute("data-enter-never-submits")) return;
    if (field.matches("input:not([type=submit]):not([type=button]):not([type=reset])")) {
      event.preventDefault();
    }
  });

  document.querySelectorAll("select[data-not-same-as]").forEach(function (select) {
    var other = select.form.querySelector('[name="' + select.getAttribute("data-not-same-as") + '"]');
    if (!other) return;
    function exclude() {
      var chosen = null;
      for (var i = 0; i < select.options.length; i++) {
        var same = select.options[i].value === other.value;
        select.options[i].disabled = same;
        select.options[i].hidden = same;
        if (!same && chosen === null) chosen = i;
      }
      if (select.value === other.value && chosen !== null) select.selectedIndex = chosen;
    }
    other.addEventListener("change", exclude);
    exclude();
  });

  document.querySelectorAll("form[data-lots-follow]").forEach(function (form) {
    var facility = form.querySelector('[name="' + form.getAttribute("data-lots-follow") + '"]');
    var lot = form.querySelector('input[name="lot_number"]');
    if (!facility || !lot) return;
    facility.addEventListener("change", function () {
      lot.setAttribute("list", "lots-" + facility.value);
    });
  });
})();

// A wide table scrolls inside its own box: that box can be reached and scrolled with the
// keyboard, and is named after the table's caption (or the nearest heading before it).
(function () {
  "use strict";
  function label(wrap) {
    var caption = wrap.querySelector("caption");
    if (caption) return caption.textContent.trim();
    var node = wrap;
    while (node && node.previousElementSibling === null) node = node.parentElement;
    for (node = node && node.previousElementSibling; node; node = node.previousElementSibling) {
      if (/^H[1-4]$/.test(node.tagName)) return node.textContent.trim();
    }
    return "Table";
  }
  function mark() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", label(wrap) + " (scrolls sideways)");
      } else if (wrap.getAttribute("role") === "region") {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
      }
    });
  }
  mark();
  window.addEventListener("resize", mark);
})();
