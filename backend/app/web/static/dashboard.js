// DawsOS dashboard: small progressive enhancements. Everything works without this file.
// 1. [data-confirm] forms ask before submitting. 2. [data-poll] polls a job's status and reloads when it is final.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
  function poll(el) {
    var url = el.getAttribute("data-poll");
    var delay = 1000;
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
        .then(function (doc) {
          el.textContent = doc.status;
          el.className = "badge badge-" + doc.status;
          if (doc.final) { window.location.reload(); return; }
          delay = Math.min(delay * 1.3, 5000);
          window.setTimeout(tick, delay);
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    }
    window.setTimeout(tick, delay);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var els = document.querySelectorAll("[data-poll]");
    for (var i = 0; i < els.length; i++) { poll(els[i]); }
  });
})();
