// The console's own script (no inline scripts: the CSP allows only files of this site).
// Times are sent in UTC and shown here in the viewer's zone, with seconds;
// durations tick once a second; a failed action's message is shown.
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function localTimes(root) {
    root.querySelectorAll("time[data-local]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) { return; }
      el.textContent = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) +
        " " + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
      el.title = el.getAttribute("datetime");  // the UTC instant, for a report
      el.removeAttribute("data-local");
    });
  }

  function durations() {
    var now = Date.now() / 1000;
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var s = Math.max(0, Math.floor(now - parseFloat(el.getAttribute("data-since"))));
      var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
      el.textContent = h + ":" + pad(m) + ":" + pad(s % 60);
    });
  }

  function flash(text) {
    var box = document.getElementById("flash");
    if (!box) { return; }
    box.textContent = text;
    setTimeout(function () { if (box.textContent === text) { box.textContent = ""; } }, 8000);
  }

  function liveState(text) {
    document.querySelectorAll("[data-live-state]").forEach(function (el) {
      el.textContent = el.getAttribute("data-" + text) || text;
      el.setAttribute("data-live-state", text);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    durations();
    setInterval(durations, 1000);
  });
  // Plain forms confirm too: the submitting button names the question.
  document.addEventListener("submit", function (e) {
    var button = e.submitter, question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { e.preventDefault(); }
  });
  document.addEventListener("htmx:afterSwap", function (e) { localTimes(e.target); durations(); });
  document.addEventListener("htmx:sseMessage", function (e) { localTimes(e.target); durations(); });
  document.addEventListener("htmx:sseOpen", function () { liveState("open"); });
  document.addEventListener("htmx:sseError", function () { liveState("lost"); });
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr, text = xhr.status + "";
    try { text = xhr.status + ": " + JSON.parse(xhr.responseText).message; } catch (_) { /* not JSON */ }
    flash(text);
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var done = e.detail.elt && e.detail.elt.getAttribute("data-done");
    if (e.detail.successful && done) { flash(done); }
  });
})();
