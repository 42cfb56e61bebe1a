// The « Ok » of a confirmation (families/_macros.html saved_notice). Without this script it is
// a link to the same page without `ok=`. With it, the confirmation closes in place, the
// address drops `ok=` (a reload would show the confirmation again), and the focus goes to the
// page's heading, just above where the confirmation was, rather than back to the page's top.
(function () {
  "use strict";
  document.querySelectorAll("[data-dismiss-notice]").forEach(function (ok) {
    var notice = ok.closest(".notice");
    if (!notice) { return; }
    ok.addEventListener("click", function (event) {
      event.preventDefault();
      notice.hidden = true;
      window.history.replaceState(window.history.state, "", ok.href);
      var heading = document.querySelector("main h1");
      if (heading) {
        heading.setAttribute("tabindex", "-1");
        heading.focus();
      }
    });
  });
})();
