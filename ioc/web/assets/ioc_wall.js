/* Wall: a new severe or extreme alert flies the map to its place for a few seconds, then back to the
   whole city, and sounds a short tone (config.sound; a kiosk browser must allow audio without a
   click: chromium --autoplay-policy=no-user-gesture-required). Alerts present when the page opens
   are known, not new. Markers scale with the screen (ioc.map.screenScale in ioc_map.js). */
window.ioc = Object.assign({}, window.ioc, {
  wall: {
    seen: null,   /* ids of the alerts already known */
    focused: [],  /* ids flown to, in order (read by the browser tests) */
    sounded: 0,
    timer: null,
    tone: function () {
      try {
        var Ctx = window.AudioContext || window.webkitAudioContext;
        var ctx = window.ioc.wall.ctx = window.ioc.wall.ctx || new Ctx();
        [0, 0.35].forEach(function (at) {
          var osc = ctx.createOscillator(), gain = ctx.createGain();
          osc.type = "sine";
          osc.frequency.value = at ? 660 : 880;
          gain.gain.setValueAtTime(0.0001, ctx.currentTime + at);
          gain.gain.exponentialRampToValueAtTime(0.3, ctx.currentTime + at + 0.02);
          gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + at + 0.3);
          osc.connect(gain).connect(ctx.destination);
          osc.start(ctx.currentTime + at);
          osc.stop(ctx.currentTime + at + 0.32);
        });
        window.ioc.wall.sounded += 1;
      } catch (e) { /* no audio device: the zoom still shows it */ }
    }
  }
});

window.dash_clientside = window.dash_clientside || {};
window.dash_clientside.ioc = Object.assign({}, window.dash_clientside.ioc, {
  wallFocus: function (targets, config) {
    var w = window.ioc.wall, list = targets || [];
    if (targets === null || targets === undefined) { return window.dash_clientside.no_update; }
    if (w.seen === null) {  /* first data: what is already there is not news */
      w.seen = {};
      list.forEach(function (a) { w.seen[a.id] = true; });
      return window.dash_clientside.no_update;
    }
    var fresh = list.filter(function (a) { return !w.seen[a.id]; });
    fresh.forEach(function (a) { w.seen[a.id] = true; });
    if (!fresh.length) { return window.dash_clientside.no_update; }
    var a = fresh[0];  /* the server sends the most severe first */
    var cfg = config || {}, mapId = cfg.map_id || "wall-map";
    w.focused.push(a.id);
    window.dash_clientside.set_props(mapId, {
      viewport: { center: [a.lat, a.lon], zoom: 15, transition: "flyTo", options: { duration: 1.5 } }
    });
    if (cfg.sound) { w.tone(); }
    if (w.timer) { clearTimeout(w.timer); }
    w.timer = setTimeout(function () {
      w.timer = null;
      if (cfg.bounds) {
        window.dash_clientside.set_props(mapId, {
          viewport: { bounds: cfg.bounds, transition: "flyToBounds", options: { padding: [8, 8], duration: 1.5 } }
        });
      }
    }, 1000 * (cfg.focus_s === undefined ? 8 : cfg.focus_s));
    return a.id;
  }
});
