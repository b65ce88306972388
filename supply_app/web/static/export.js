// Margin downloads that show their progress and are saved only when they arrived whole.
// A download link marked data-export is fetched as a stream: the status line counts rows
// (CSV) or megabytes (XLSX) as they come. At the end the file is checked before it is
// saved: a CSV must end with its TOTAL row after exactly X-Export-Rows rows, an XLSX with
// the zip's closing record. A download cut off on the way is reported and never saved, so
// a partial file can never pass for the report. Without fetch streams the link works as
// a plain download (and the file still ends with its TOTAL row). Plain JavaScript.
(function () {
  "use strict";
  var status = document.getElementById("export-status");
  if (!status || !window.fetch || !window.ReadableStream || !window.TextDecoder) return;
  var bar = status.querySelector("progress");
  var text = status.querySelector("[data-export-text]");
  var cancel = status.querySelector("[data-export-cancel]");
  var running = null;
  var NEWLINE = 10;
  var TYPES = {
    csv: "text/csv",
    xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  };

  function say(message, failed) {
    status.hidden = false;
    status.classList.toggle("failed", !!failed);
    text.textContent = message;
  }

  function count(n) {
    return n.toLocaleString("en-US");
  }

  function megabytes(bytes) {
    return (bytes / 1048576).toFixed(1) + " MB";
  }

  function newlines(chunk) {
    var n = 0;
    for (var i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) n++;
    return n;
  }

  function tail(chunks, size) {
    // The last `size` bytes of the download (enough for the TOTAL row / the zip's end).
    var parts = [], have = 0;
    for (var i = chunks.length - 1; i >= 0 && have < size; i--) {
      parts.unshift(chunks[i]);
      have += chunks[i].length;
    }
    var all = new Uint8Array(have), at = 0;
    parts.forEach(function (part) { all.set(part, at); at += part.length; });
    return all.subarray(Math.max(0, have - size));
  }

  function csvProblem(chunks, lines, expected) {
    var end = new TextDecoder().decode(tail(chunks, 65536));
    if (!end.endsWith("\n")) return "it stops in the middle of a row";
    var last = end.slice(0, -1).split("\n").pop();
    if (last.indexOf("TOTAL,") !== 0) return "its TOTAL row is missing";
    var rows = lines - 2;  // less the header and the TOTAL row
    if (rows !== expected) return "it has " + count(rows) + " of " + count(expected) + " rows";
    return null;
  }

  function xlsxProblem(chunks) {
    // A zip ends with its 22-byte end-of-central-directory record, "PK\x05\x06".
    var end = tail(chunks, 22);
    var whole = end.length === 22 && end[0] === 0x50 && end[1] === 0x4b && end[2] === 5 && end[3] === 6;
    return whole ? null : "the workbook's last part is missing";
  }

  function save(chunks, name, format) {
    var url = URL.createObjectURL(new Blob(chunks, { type: TYPES[format] }));
    var link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
  }

  function filename(response, format) {
    var match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    return match ? match[1] : "case-margin." + format;
  }

  function download(link) {
    var format = link.getAttribute("data-export");
    var label = format.toUpperCase();
    var controller = new AbortController();
    var chunks = [], bytes = 0, lines = 0, expected = 0;
    running = controller;
    cancel.hidden = false;
    bar.removeAttribute("value");  // indeterminate until rows arrive
    say("Preparing the " + label + "…");

    var painted = 0;
    function progress() {
      var now = Date.now();
      if (now - painted < 100) return;  // a few repaints a second is plenty
      painted = now;
      if (format === "csv" && expected > 0) {
        var rows = Math.max(0, Math.min(lines - 1, expected));
        bar.max = expected;
        bar.value = rows;
        say(label + ": " + count(rows) + " of " + count(expected) + " rows (" + megabytes(bytes) + ")");
      } else {
        say(label + ": " + megabytes(bytes) + " received for " + count(expected) + " rows…");
      }
    }

    function finish(response) {
      var problem = format === "csv" ? csvProblem(chunks, lines, expected) : xlsxProblem(chunks);
      if (problem) {
        say("The " + label + " download was cut off (" + problem + "), so it was not saved. Try again.", true);
        return;
      }
      save(chunks, filename(response, format), format);
      bar.max = 1;
      bar.value = 1;
      say("Saved " + filename(response, format) + ": " + count(expected) + " rows and the TOTAL row, checked whole.");
    }

    fetch(link.href, { credentials: "same-origin", signal: controller.signal })
      .then(function (response) {
        if (!response.ok) {
          // The server's own page says what to change (filters, or CSV for a big report).
          window.location.assign(link.href);
          return null;
        }
        expected = parseInt(response.headers.get("X-Export-Rows") || "0", 10);
        var reader = response.body.getReader();
        function pump() {
          return reader.read().then(function (step) {
            if (step.done) return finish(response);
            chunks.push(step.value);
            bytes += step.value.length;
            if (format === "csv") lines += newlines(step.value);
            progress();
            return pump();
          });
        }
        return pump();
      })
      .catch(function (error) {
        if (controller.signal.aborted) {
          say("Download cancelled; nothing was saved.");
        } else {
          var got = format === "csv" ? count(Math.max(0, lines - 1)) + " of " + count(expected) + " rows" : megabytes(bytes);
          say("The " + label + " download was cut off after " + got + " (" + error.message + "), so it was not saved. Try again.", true);
        }
      })
      .then(function () {
        running = null;
        cancel.hidden = true;
      });
  }

  cancel.addEventListener("click", function () {
    if (running) running.abort();
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-export]") : null;
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    if (running) {
      say("One download at a time: wait for this one, or cancel it.");
      return;
    }
    download(link);
  });
})();
