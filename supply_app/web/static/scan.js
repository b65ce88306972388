// Keyboard-wedge scanning: a scanner "types" the barcode and presses Enter.
// * An input marked data-scan: Enter reads the barcode on the server and fills the form's
//   part, lot and expiry fields instead of submitting the form.
// * A textarea marked data-scan-lines (the case form: one barcode per line): Enter starts
//   the next line as usual, and the line just scanned is read and reported.
// Each scan gets a line of feedback: part, lot, expiry, what is on the shelf and how many
// were scanned so far. A label whose GTIN is not linked to a part yet can be linked on the
// spot (the #teach panel) by those allowed to; the scan is then read again.
// Plain JavaScript, no libraries.
(function () {
  "use strict";

  var pending = null; // {input, code, after} waiting for its GTIN to be linked

  // The form's own control of that name: form.elements leaves out the teaching panel's
  // controls, which sit inside the page's form but belong to #teach-form.
  function fieldOf(form, name) {
    var field = form.elements.namedItem(name);
    return field instanceof RadioNodeList ? field[0] : field;
  }

  function setField(form, name, value) {
    var input = fieldOf(form, name);
    if (!input || value === null || value === undefined) return false;
    input.value = value;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }

  function describe(data) {
    var parts = [data.part_number || "part not known"];
    if (data.lot_number) parts.push("lot " + data.lot_number);
    if (data.expiry_date) parts.push("expires " + data.expiry_date);
    if (data.on_hand !== null && data.on_hand !== undefined) parts.push(data.on_hand + " on the shelf here");
    if (data.warning) parts.push(data.warning);
    return parts.join(" · ");
  }

  function statusOf(input) {
    return document.getElementById(input.id + "-status");
  }

  function facilityOf(form) {
    var facility = form.querySelector('[name="facility_id"]');
    return facility && facility.value ? facility.value : form.getAttribute("data-facility");
  }

  function read(input, code, after) {
    var status = statusOf(input);
    status.textContent = "Reading…";
    // The facility lets the server find the lot on its shelf, and say how many are there.
    var url = input.getAttribute("data-scan");
    url += (url.indexOf("?") < 0 ? "?" : "&") + "code=" + encodeURIComponent(code);
    var facility = facilityOf(input.form);
    if (facility) url += "&facility=" + encodeURIComponent(facility);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (result) {
        if (!result.ok) {
          status.textContent = result.data.error || "That barcode could not be read.";
          status.classList.add("error");
          return;
        }
        status.classList.remove("error");
        after(result.data, status, code);
        // A lot that must not be used here (on hold, expired, not on this shelf): in red.
        if (result.data.warning) status.classList.add("error");
        offerTeaching(input, code, after, result.data);
      })
      .catch(function () {
        status.textContent = "The server could not be reached; type the fields instead.";
      });
  }

  // An order receipt: the scan fills the row of its part (one more pack of that lot).
  // scanned is the code this answer is for: a fast scanner may already have sent the next.
  function fillRow(rows, input, data, status, scanned) {
    if (data.part_id === null) {
      status.textContent = "Read: " + describe(data) + ".";
      return;
    }
    var row = null;
    rows.forEach(function (candidate) {
      if (candidate.getAttribute("data-part-row") === String(data.part_id)) row = candidate;
    });
    if (!row) {
      status.textContent = "This label is for " + data.part_number + ", which this order did not ask for: put it aside.";
      status.classList.add("error");
      return;
    }
    var scanField = row.querySelector('[data-fill="scan"]');
    var packs = row.querySelector('[data-fill="packs"]');
    if (scanField.value && scanField.value !== scanned) {
      status.textContent = row.getAttribute("data-part-number") + " already holds lot " + row.querySelector('[data-fill="lot_number"]').value + "; receive it first, then scan lot " + data.lot_number + ".";
      status.classList.add("error");
      return;
    }
    packs.value = scanField.value ? String((parseInt(packs.value, 10) || 0) + 1) : "1";
    scanField.value = scanned;
    row.querySelector('[data-fill="lot_number"]').value = data.lot_number || "";
    row.querySelector('[data-fill="expiry_date"]').value = data.expiry_date || "";
    status.textContent = "Read: " + describe(data) + ". " + row.getAttribute("data-part-number") + ": " + packs.value + " pack(s) scanned so far.";
  }

  function fill(input) {
    return function (data, status, scanned) {
      var form = input.form;
      var rows = form.querySelectorAll("[data-part-row]");
      if (rows.length) {
        fillRow(rows, input, data, status, scanned);
        return;
      }
      if (data.part_id !== null) setField(form, "part_id", String(data.part_id));
      setField(form, "lot_number", data.lot_number);
      setField(form, "expiry_date", data.expiry_date);
      status.textContent = "Read: " + describe(data) + ".";
      input.setAttribute("data-read", code(input));
    };
  }

  function code(input) {
    return input.value.replace(/[\r\n]+$/, "");
  }

  // The case form: count every line scanned so far, and per lot.
  function tally(textarea, data, status) {
    var lines = textarea.value.split(/\r?\n/).filter(function (l) { return l.trim(); });
    var same = 0;
    for (var i = 0; i < lines.length; i++) {
      if (lines[i].trim() === data.raw) same += 1;
    }
    var text = "Scan " + lines.length + ": " + describe(data) + ". ";
    text += lines.length + " scanned so far";
    if (data.lot_number) text += ", " + same + " of lot " + data.lot_number;
    if (data.on_hand !== null && data.on_hand !== undefined && same > data.on_hand) {
      text += ". Only " + data.on_hand + " of this lot are on the shelf: check the scans";
      status.classList.add("error");
    }
    status.textContent = text + ".";
  }

  function offerTeaching(input, scanned, after, data) {
    var panel = document.getElementById("teach");
    if (!panel) return;
    if (!data.teach) {
      if (pending && pending.input === input) panel.hidden = true;
      return;
    }
    pending = { input: input, code: scanned, after: after };
    panel.querySelector("[data-gtin]").textContent = data.gtin;
    panel.querySelector('[name="gtin"]').value = data.gtin;
    // Only a part the user chose already is offered; otherwise they must pick the part the
    // label is on (a guess, such as the order's first line, would teach a wrong link).
    var part = fieldOf(input.form, "part_id");
    var choose = panel.querySelector('[name="part_id"]');
    choose.value = part && part.value ? part.value : "";
    panel.querySelector('[name="level"]').value = "";
    panel.hidden = false;
  }

  function teach(event) {
    event.preventDefault();
    var form = event.target;
    var panel = document.getElementById("teach");
    var message = panel.querySelector(".teach-status");
    message.textContent = "Linking…";
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (result) {
        message.textContent = result.ok ? result.data.message : result.data.error;
        if (result.ok && pending) {
          panel.hidden = true;
          var again = pending;
          pending = null;
          read(again.input, again.code, again.after);
          again.input.focus();
        }
      })
      .catch(function () {
        message.textContent = "The server could not be reached; try again.";
      });
  }

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key !== "Enter" || !input.matches) return;
    if (input.matches("input[data-scan]")) {
      event.preventDefault();
      var scanned = code(input);
      if (!scanned) return;
      // On an order receipt the box only reads labels into the rows: empty it at once, so
      // a fast scanner's next label (even the same one again) is read in its turn.
      if (input.form.querySelector("[data-part-row]")) input.value = "";
      read(input, scanned, fill(input));
    } else if (input.matches("textarea[data-scan-lines]")) {
      // Let the newline in, then read the line the scanner just finished.
      var before = input.value.slice(0, input.selectionStart).split(/\r?\n/);
      var scanned = before[before.length - 1].trim();
      if (!scanned) return;
      read(input, scanned, function (data, status) {
        data.raw = scanned;
        tally(input, data, status);
      });
    }
  });

  var teachForm = document.getElementById("teach-form");
  if (teachForm) teachForm.addEventListener("submit", teach);
})();
