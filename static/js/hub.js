/* Workforce Hub: small progressive enhancements. Pages work without this file. */
(function () {
  "use strict";
  // Remember the browser's time zone so pages for visitors show local times.
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz && document.cookie.indexOf("hub_tz=" + tz) === -1) {
      document.cookie = "hub_tz=" + encodeURIComponent(tz) + ";path=/;max-age=31536000;samesite=lax";
    }
  } catch (e) { /* old browser: times stay in UTC */ }

  var hub = (window.hub = window.hub || {});
  var listeners = {};
  hub.on = function (type, fn) { (listeners[type] = listeners[type] || []).push(fn); };
  function emit(msg) {
    (listeners[msg.type] || []).concat(listeners["*"] || []).forEach(function (fn) { fn(msg); });
  }
  function announce(text) {
    var el = document.getElementById("live-status");
    if (el) { el.textContent = text; }
  }
  hub.on("notification", function (msg) {
    announce((msg.data && msg.data.text) || "New notification");
  });

  // The personal notifications socket, reconnecting with backoff.
  if (!document.body.dataset.member || !window.WebSocket) { return; }
  var delay = 1000;
  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + "/ws/notifications/");
    hub.notifications = ws;
    ws.onopen = function () { delay = 1000; };
    ws.onmessage = function (e) {
      try { emit(JSON.parse(e.data)); } catch (err) { /* ignore bad frames */ }
    };
    ws.onclose = function (e) {
      if (e.code === 4401 || e.code === 4409 || e.code === 4403) { return; }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
