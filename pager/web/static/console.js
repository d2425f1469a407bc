// pager's console: the one small script of its own (htmx does the rest).
// Shows whether the page is live, so a stale screen never passes for a calm one.
(function () {
  "use strict";
  function show(state, text) {
    var live = document.getElementById("live");
    if (!live) return;
    live.dataset.state = state;
    live.textContent = text;
  }
  document.addEventListener("htmx:sseOpen", function () { show("open", "live"); });
  document.addEventListener("htmx:sseError", function () {
    show("error", "not live: reconnecting…");
  });
  document.addEventListener("pager-stale", function () {
    show("stale", "not live: the server did not answer; reload");
  });
})();
