// "Mes réservations": counts the unsaved changes, warns before leaving with some, and flags
// two ticked units that cannot share a day (each row's `data-excludes`, the service's rule
// read both ways) before saving. Without this script the planning works the same
// (checkboxes, reset, submit) and the service refuses such a pair with its reason anyway.
// The week and the month carry each box twice, in the grid and in the phone's list of days
// (one of them hidden): a box ticked in one is ticked in its twin, so a phone turned sideways
// (the grid) shows the same ticks, and each change is counted and flagged once.
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

  function twins(box) {
    return form.querySelectorAll("input[data-change][name='" + box.name + "'][value='" +
      box.value + "']");
  }

  function flagClashes() {
    if (!clashes) { return; }
    var sentences = [];
    var flagged = [];
    // One activity's grid, or its list of days: the same day is the same `data-day`.
    form.querySelectorAll("table.planning, .planning-days").forEach(function (planning) {
      var ticked = Array.prototype.slice.call(
        planning.querySelectorAll("input[name='reserver']:checked"));
      ticked.forEach(function (a, i) {
        ticked.slice(i + 1).forEach(function (b) {
          var sameDay = a.getAttribute("data-day") === b.getAttribute("data-day");
          if (sameDay && (excludes(a, b) || excludes(b, a))) {
            flagged.push(a, b);
            var sentence = clashes.getAttribute("data-message")
              .replace("{a}", a.getAttribute("data-unit-label"))
              .replace("{b}", b.getAttribute("data-unit-label"))
              .replace("{day}", a.getAttribute("data-day-label"));
            // The grid and the list of days say the same pair: once.
            if (sentences.indexOf(sentence) === -1) { sentences.push(sentence); }
          }
        });
      });
    });
    form.querySelectorAll("input[name='reserver']").forEach(function (box) {
      var clash = flagged.indexOf(box) !== -1;
      box.closest(".cell").classList.toggle("cell--clash", clash);
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
    var changes = [];
    form.querySelectorAll("input[data-change]:checked").forEach(function (box) {
      var change = box.name + " " + box.value;
      if (changes.indexOf(change) === -1) { changes.push(change); }
    });
    var n = changes.length;
    // The page's sentence, in its language (« {n} changement(s) non enregistré(s) »).
    pending.textContent = n ? pending.getAttribute("data-message").replace("{n}", n) : "";
    form.querySelectorAll(".cell").forEach(function (cell) {
      var box = cell.querySelector("input[data-change]");
      cell.classList.toggle("cell--changed", !!(box && box.checked));
    });
    flagClashes();
    return n;
  }

  function showFirstChoice() {
    // A grid wider than its box (the month on a desktop) opens on the 1st, often days past
    // or « hors période »: bring the first cell with a box (to book or to cancel) into view,
    // just right of the sticky unit column. On a phone the grid is hidden (the list of days
    // is shown) and has nothing to scroll.
    form.querySelectorAll(".planning-scroll").forEach(function (scroller) {
      if (scroller.scrollWidth <= scroller.clientWidth) { return; }
      var box = scroller.querySelector("input[data-change]");
      var target = box ? box.closest("td") : null;
      var header = scroller.querySelector("th[scope='row']");
      if (!target || !header) { return; }
      var cell = target.getBoundingClientRect();
      var left = scroller.getBoundingClientRect().left + header.getBoundingClientRect().width;
      if (cell.left >= left && cell.right <= scroller.getBoundingClientRect().right) { return; }
      scroller.scrollLeft += cell.left - left;
    });
  }

  form.addEventListener("change", function (event) {
    var box = event.target;
    if (box.matches && box.matches("input[data-change]")) {
      twins(box).forEach(function (twin) { twin.checked = box.checked; });
    }
    count();
  });
  form.addEventListener("reset", function () { window.setTimeout(count, 0); });
  form.addEventListener("submit", function () {
    submitting = true;
    // The twins not shown are left out of the POST (the form's entries are read after this
    // event): each box is sent once, as from the grid alone.
    form.querySelectorAll("input[data-change]").forEach(function (box) {
      if (!box.getClientRects().length) { box.disabled = true; }
    });
  });
  // Back to this page from the answer (the browser's page cache): its boxes usable again.
  window.addEventListener("pageshow", function () {
    form.querySelectorAll("input[data-change]").forEach(function (box) { box.disabled = false; });
  });
  window.addEventListener("beforeunload", function (event) {
    if (!submitting && count() > 0) { event.preventDefault(); event.returnValue = ""; }
  });
  count();
  showFirstChoice();
})();
