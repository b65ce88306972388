// Keyboard-wedge scanning: a scanner "types" the barcode and presses Enter. On Enter in an
// input marked data-scan we ask the server to read the barcode and fill the form's part,
// lot and expiry fields instead of submitting the form. Plain JavaScript, no libraries.
(function () {
  "use strict";

  function setField(form, name, value) {
    var input = form.querySelector('[name="' + name + '"]');
    if (!input || value === null || value === undefined) return false;
    input.value = value;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }

  function pickOption(form, partId) {
    // Order receipts choose a line whose option names the part in data-part.
    var select = form.querySelector("select[data-scan-part]");
    if (!select || partId === null) return false;
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].getAttribute("data-part") === String(partId)) {
        select.selectedIndex = i;
        return true;
      }
    }
    return false;
  }

  function describe(data) {
    var parts = [];
    if (data.part_number) parts.push(data.part_number);
    if (data.lot_number) parts.push("lot " + data.lot_number);
    if (data.expiry_date) parts.push("expires " + data.expiry_date);
    if (!data.part_number) parts.push("part not recognised: choose it below");
    return "Read: " + parts.join(", ") + ".";
  }

  function read(input) {
    var form = input.form;
    var status = document.getElementById(input.id + "-status");
    var code = input.value.replace(/[\r\n]+$/, "");
    if (!code) return;
    status.textContent = "Reading…";
    // The facility lets the server find a lot already on its shelf when the label's
    // GTIN is not in the catalog.
    var facility = form.querySelector('[name="facility_id"]');
    var url = input.getAttribute("data-scan") + "?code=" + encodeURIComponent(code);
    if (facility && facility.value) url += "&facility=" + encodeURIComponent(facility.value);
    fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (result) {
        if (!result.ok) {
          status.textContent = result.data.error || "That barcode could not be read.";
          return;
        }
        var data = result.data;
        if (data.part_id !== null) {
          setField(form, "part_id", String(data.part_id));
          pickOption(form, data.part_id);
        }
        setField(form, "lot_number", data.lot_number);
        setField(form, "expiry_date", data.expiry_date);
        status.textContent = describe(data);
        input.setAttribute("data-read", code);
      })
      .catch(function () {
        status.textContent = "The server could not be reached; type the fields instead.";
      });
  }

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key !== "Enter" || !input.matches || !input.matches("input[data-scan]")) return;
    event.preventDefault();
    read(input);
  });
})();
