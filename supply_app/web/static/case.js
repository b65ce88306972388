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
  var payer = form.querySelector('select[name="payer_id"]');
  var payerTouched = false;
  var as0441t = form.querySelector('input[name="as_0441t"]');
  var box0441t = document.getElementById("as-0441t");
  var touched0441t = false;

  function ticked(name) {
    return form.querySelectorAll('input[name="' + name + '"]:checked').length;
  }

  function knee(anterior, genicular, label) {
    var codes = [];
    if (as0441t && as0441t.checked) {
      if (anterior + genicular) codes.push("0441T" + label + " × " + (anterior + genicular));
      return codes;
    }
    if (anterior) codes.push("64640" + label + " × " + anterior);
    if (genicular) codes.push("64624" + label + " × 1" + (genicular < 3 ? " (modifier 52: " + genicular + " of 3 nerves)" : ""));
    return codes;
  }

  function update() {
    var leftA = ticked("anterior_left");
    var leftG = ticked("genicular_left");
    var bilateral = side.value === "bilateral";
    var split = bilateral && (leftA || leftG);
    var codes;
    if (bilateral && !split) {
      // The same nerves on both knees: per-nerve codes go on each knee's lines, 64624 is -50.
      var a = ticked("anterior"), g = ticked("genicular");
      codes = as0441t && as0441t.checked
        ? knee(a, g, "-RT").concat(knee(a, g, "-LT"))
        : knee(a, 0, "-RT").concat(knee(a, 0, "-LT"), knee(0, g, "-50"));
    } else {
      codes = knee(ticked("anterior"), ticked("genicular"), split ? "-RT" : "");
      if (split) codes = codes.concat(knee(leftA, leftG, "-LT"));
    }
    if (device.checked) codes.push("C9809 × 1");
    out.textContent = codes.length ? codes.join(", ") : "— tick the nerves treated";
  }

  function followFacility() {
    var option = facility.options[facility.selectedIndex];
    if (!deviceTouched && option) device.checked = option.getAttribute("data-bill-device") === "true";
    if (!payerTouched && option && payer) {
      var wanted = option.getAttribute("data-default-payer");
      if (payer.querySelector('option[value="' + wanted + '"]')) payer.value = wanted;
    }
    if (option && as0441t) {
      var bills = option.getAttribute("data-bills-0441t") === "true";
      if (!touched0441t) as0441t.checked = bills;
      box0441t.hidden = !bills && !as0441t.checked;
    }
    update();
  }

  function showLeftKnee() {
    var bilateral = side.value === "bilateral";
    leftKnee.hidden = !bilateral && !leftKnee.querySelector("input:checked");
  }

  device.addEventListener("change", function () { deviceTouched = true; });
  if (payer) payer.addEventListener("change", function () { payerTouched = true; });
  if (as0441t) as0441t.addEventListener("change", function () { touched0441t = true; });
  facility.addEventListener("change", followFacility);
  side.addEventListener("change", showLeftKnee);
  form.addEventListener("change", update);
  showLeftKnee();
  if (as0441t) {
    var first = facility.options[facility.selectedIndex];
    box0441t.hidden = !as0441t.checked && !(first && first.getAttribute("data-bills-0441t") === "true");
  }
  update();
})();
