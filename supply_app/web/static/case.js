// The case form: the codes a case will bill as nerves are ticked (64640 once per
// anterior-knee nerve, 64624 once per knee for the genicular nerves, modifier 52 when
// fewer than three, C9809 for the device), the device box following the facility's
// default until someone ticks it, and the left-knee section shown for bilateral cases.
// The server derives and prices the codes; this is only a preview.
(function () {
  "use strict";
  var form = document.getElementById("case-form");
  if (!form) return;
  var out = document.getElementById("codes");
  var device = form.querySelector('input[name="device"]');
  var facility = form.querySelector('select[name="facility_id"]');
  var side = form.querySelector('select[name="laterality"]');
  var leftKnee = document.getElementById("left-knee");
  var deviceTouched = false;

  function ticked(name) {
    return form.querySelectorAll('input[name="' + name + '"]:checked').length;
  }

  function knee(anterior, genicular, label) {
    var codes = [];
    if (anterior) codes.push("64640" + label + " × " + anterior);
    if (genicular) codes.push("64624" + label + " × 1" + (genicular < 3 ? " (modifier 52: " + genicular + " of 3 nerves)" : ""));
    return codes;
  }

  function update() {
    var leftA = ticked("anterior_left");
    var leftG = ticked("genicular_left");
    var split = side.value === "bilateral" && (leftA || leftG);
    var codes = knee(ticked("anterior"), ticked("genicular"), split ? "-RT" : "");
    if (split) codes = codes.concat(knee(leftA, leftG, "-LT"));
    if (device.checked) codes.push("C9809 × 1");
    out.textContent = codes.length ? codes.join(", ") : "— tick the nerves treated";
  }

  function followFacility() {
    var option = facility.options[facility.selectedIndex];
    if (!deviceTouched && option) device.checked = option.getAttribute("data-bill-device") === "true";
  }

  function showLeftKnee() {
    var bilateral = side.value === "bilateral";
    leftKnee.hidden = !bilateral && !leftKnee.querySelector("input:checked");
  }

  device.addEventListener("change", function () { deviceTouched = true; });
  facility.addEventListener("change", followFacility);
  side.addEventListener("change", showLeftKnee);
  form.addEventListener("change", update);
  showLeftKnee();
  update();
})();
