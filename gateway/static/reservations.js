// "Mes réservations": counts the unsaved changes and warns before leaving with some.
// Without this script the planning works the same (checkboxes, reset, submit).
(function () {
  "use strict";
  var form = document.getElementById("planning-form");
  var pending = document.getElementById("pending");
  if (!form || !pending) { return; }
  var submitting = false;
  function count() {
    var n = form.querySelectorAll("input[data-change]:checked").length;
    pending.textContent = n ? n + " changement(s) non enregistré(s)" : "";
    form.querySelectorAll("td.cell").forEach(function (td) {
      var box = td.querySelector("input[data-change]");
      td.classList.toggle("cell--changed", !!(box && box.checked));
    });
    return n;
  }
  form.addEventListener("change", count);
  form.addEventListener("reset", function () { window.setTimeout(count, 0); });
  form.addEventListener("submit", function () { submitting = true; });
  window.addEventListener("beforeunload", function (event) {
    if (!submitting && count() > 0) { event.preventDefault(); event.returnValue = ""; }
  });
  count();
})();
