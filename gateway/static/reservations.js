// "Mes réservations": counts the unsaved changes, warns before leaving with some, and flags
// two ticked units that cannot share a day (each row's `data-excludes`, the service's rule
// read both ways) before saving. Without this script the planning works the same
// (checkboxes, reset, submit) and the service refuses such a pair with its reason anyway.
(function () {
  "use strict";
  var form = document.getElementById("planning-form");
  var pending = document.getElementById("pending");
  var clashes = document.getElementById("clashes");
  if (!form || !pending) { return; }
  var submitting = false;

  function excludes(box, other) {
    var codes = (box.getAttribute("data-excludes") || "").split(" ");
    return codes.indexOf(other.getAttribute("data-unit")) !== -1;
  }

  function dayOf(box) {
    // The column's header ("mer. 21/04"): the same day is the same column of one table.
    var td = box.closest("td");
    var head = td.closest("table").querySelector("thead tr");
    return head && head.cells[td.cellIndex] ? head.cells[td.cellIndex].textContent.trim() : "";
  }

  function flagClashes() {
    if (!clashes) { return; }
    var sentences = [];
    var flagged = [];
    form.querySelectorAll("table.planning").forEach(function (table) {
      var ticked = Array.prototype.slice.call(
        table.querySelectorAll("input[name='reserver']:checked"));
      ticked.forEach(function (a, i) {
        ticked.slice(i + 1).forEach(function (b) {
          var sameDay = a.closest("td").cellIndex === b.closest("td").cellIndex;
          if (sameDay && (excludes(a, b) || excludes(b, a))) {
            flagged.push(a, b);
            sentences.push(clashes.getAttribute("data-message")
              .replace("{a}", a.getAttribute("data-unit-label"))
              .replace("{b}", b.getAttribute("data-unit-label"))
              .replace("{day}", dayOf(a)));
          }
        });
      });
    });
    form.querySelectorAll("input[name='reserver']").forEach(function (box) {
      var clash = flagged.indexOf(box) !== -1;
      box.closest("td").classList.toggle("cell--clash", clash);
      if (clash) {
        box.setAttribute("aria-invalid", "true");
        box.setAttribute("aria-describedby", "clashes");
      } else {
        box.removeAttribute("aria-invalid");
        box.removeAttribute("aria-describedby");
      }
    });
    clashes.textContent = sentences.join(" ");
  }

  function count() {
    var n = form.querySelectorAll("input[data-change]:checked").length;
    // The page's sentence, in its language (« {n} changement(s) non enregistré(s) »).
    pending.textContent = n ? pending.getAttribute("data-message").replace("{n}", n) : "";
    form.querySelectorAll("td.cell").forEach(function (td) {
      var box = td.querySelector("input[data-change]");
      td.classList.toggle("cell--changed", !!(box && box.checked));
    });
    flagClashes();
    return n;
  }
  function firstCellToShow(scroller) {
    // On a phone, today's column when the grid holds today (the month opened on its past
    // days, the parent scrolled sideways to reach this week); otherwise, and on a desktop as
    // before, the first cell with a box.
    var today = scroller.querySelector("thead th[aria-current='date']");
    if (today && window.matchMedia("(max-width: 40rem)").matches) { return today; }
    var box = scroller.querySelector("input[data-change]");
    return box ? box.closest("td") : null;
  }

  function showFirstChoice() {
    // A month on a phone opens on the 1st, often days past or « hors période »: bring today's
    // column, or the first cell with a box (to book or to cancel), into view, just right of
    // the sticky unit column.
    form.querySelectorAll(".planning-scroll").forEach(function (scroller) {
      if (scroller.scrollWidth <= scroller.clientWidth) { return; }
      var target = firstCellToShow(scroller);
      var header = scroller.querySelector("th[scope='row']");
      if (!target || !header) { return; }
      var cell = target.getBoundingClientRect();
      var left = scroller.getBoundingClientRect().left + header.getBoundingClientRect().width;
      if (cell.left >= left && cell.right <= scroller.getBoundingClientRect().right) { return; }
      scroller.scrollLeft += cell.left - left;
    });
  }

  form.addEventListener("change", count);
  form.addEventListener("reset", function () { window.setTimeout(count, 0); });
  form.addEventListener("submit", function () { submitting = true; });
  window.addEventListener("beforeunload", function (event) {
    if (!submitting && count() > 0) { event.preventDefault(); event.returnValue = ""; }
  });
  count();
  showFirstChoice();
})();
