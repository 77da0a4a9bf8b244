/* Push, not poll (ioc/web/push.py): one EventSource per page on /live/stream.
 *
 * While the stream is up, the page's live intervals (named in <meta name="ioc-push">) are disabled
 * and each pushed snapshot ticks them once (dash_clientside.set_props on n_intervals), which runs
 * the page's existing live callback. When the stream drops, polling resumes at once, a notice
 * says "Mất kết nối — đang kết nối lại…", and the stream is reopened; when it is back, polling
 * stops again and the notice goes. window.iocPush exposes the state (tests read it).
 */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="ioc-push"]');
  if (!meta || !window.EventSource) return;
  var parts = meta.getAttribute("content").split(" ");
  var url = parts[0];
  var ticks = (parts[1] || "").split(",").filter(Boolean);
  var state = (window.iocPush = { up: false, events: 0, opened: 0, dropped: 0, version: null });
  var es = null;
  var retryTimer = null;

  var TEXT = {
    vi: { lost: "Mất kết nối cập nhật trực tiếp — đang kết nối lại…", polling: "(đang cập nhật định kỳ)" },
    en: { lost: "Live updates disconnected — reconnecting…", polling: "(updating periodically)" },
  };

  function lang() {
    return (document.documentElement.getAttribute("lang") || "vi").slice(0, 2) === "en" ? "en" : "vi";
  }

  function layoutProps(id) {
    var st = window.store && window.store.getState && window.store.getState();
    var path = st && st.paths && st.paths.strs && st.paths.strs[id];
    if (!path) return null;
    var node = st.layout;
    for (var i = 0; i < path.length && node; i++) node = node[path[i]];
    return node && node.props ? node.props : null;
  }

  function present() {
    return ticks.filter(function (id) { return layoutProps(id) !== null; });
  }

  function setPolling(on) {
    if (!window.dash_clientside || !window.dash_clientside.set_props) return;
    present().forEach(function (id) {
      var p = layoutProps(id);
      if (p && Boolean(p.disabled) !== !on) window.dash_clientside.set_props(id, { disabled: !on });
    });
  }

  function notice(show) {
    var el = document.getElementById("ioc-push-status");
    if (!show) {
      if (el) el.hidden = true;
      return;
    }
    if (!el) {
      el = document.createElement("div");
      el.id = "ioc-push-status";
      el.setAttribute("role", "status");
      el.className = "ioc-push-status";
      document.body.appendChild(el);
    }
    var t = TEXT[lang()];
    el.textContent = t.lost + " " + t.polling;
    el.hidden = false;
  }

  function tick() {
    var n = Date.now();
    present().forEach(function (id) { window.dash_clientside.set_props(id, { n_intervals: n }); });
  }

  function onSnapshot(e) {
    var d = JSON.parse(e.data);
    state.events += 1;
    state.version = d.version;
    state.last = d;
    tick();
  }

  function drop() {
    if (state.up) state.dropped += 1;
    state.up = false;
    setPolling(true);
    notice(true);
  }

  function connect() {
    retryTimer = null;
    if (es) es.close();
    es = new EventSource(url);
    es.addEventListener("hello", function (e) {
      var d = JSON.parse(e.data);
      if (state.renewing) clearTimeout(state.renewing);
      state.renewing = null;
      state.up = true;
      state.opened += 1;
      if (state.version !== null && d.version !== state.version) tick(); // missed while away
      state.version = d.version;
      notice(false);
      setPolling(false);
    });
    es.addEventListener("snapshot", onSnapshot);
    es.addEventListener("bye", function () {
      // The server ends each stream after a few minutes (the session is checked again on reconnect):
      // no notice for that, unless the reconnection fails.
      state.up = false;
      state.renewing = setTimeout(function () { state.renewing = null; if (!state.up) drop(); }, 10000);
    });
    es.onerror = function () {
      if (state.renewing && es.readyState !== 2) return;
      drop();
      // The browser retries by itself unless the server refused (closed): then we retry.
      if (es.readyState === 2 && !retryTimer) retryTimer = setTimeout(connect, 5000);
    };
  }

  function start() {
    if (es || !present().length) return false;
    connect();
    return true;
  }

  // Dash renders the layout after this script runs, and pages change without a reload: keep the
  // stream for any page with a live interval, and keep a newly shown page's interval disabled.
  setInterval(function () {
    if (!es) start();
    else if (state.up) setPolling(false);
  }, 250);
  window.addEventListener("beforeunload", function () { if (es) es.close(); });
})();
