/* Generic styling for every map layer: each GeoJSON feature carries its own colour, size and
   tooltip in its properties (built by layers/*.py), so one set of functions serves all layers.
   Tooltips are set as text, never HTML: report categories and titles come from outside. */
window.ioc = Object.assign({}, window.ioc, {
  map: {
    /* A feature's properties, overlaid with its live style from the layer's hideout (choropleths). */
    props: function (feature, context) {
      var p = feature.properties || {};
      var styles = context && context.hideout && context.hideout.styles;
      var st = styles && styles[p.code];
      return st ? Object.assign({}, p, st) : p;
    },
    cls: function (p) {
      return "ioc-mk ioc-" + (p.layer || "x") + " ioc-st-" + (p.status || "none");
    },
    /* Markers and lines grow with the screen on the wall (1× at 1600 px wide, about 2.4× at 4K);
       other pages draw at 1×. */
    screenScale: function () {
      if (!document.querySelector(".ioc-wall")) { return 1; }
      return Math.max(1, Math.min(3, window.innerWidth / 1600));
    },
    canvas: null,
    drawn: {},  /* markers created per layer, and when: lets benchmarks see canvas-drawn layers */
    firstAt: {},
    lastAt: {},
    point: function (feature, latlng) {
      var p = feature.properties || {};
      var m = window.ioc.map;
      var k = m.screenScale();
      var options = {
        radius: (p.radius || 7) * k, fillColor: p.color || "#666", color: p.outline || "#ffffff",
        weight: (p.outline ? 3 : 1.5) * k,
        opacity: 1, fillOpacity: 0.92, className: m.cls(p)
      };
      /* Large layers draw on one shared canvas: thousands of SVG nodes are too slow to paint. */
      if (p.canvas) {
        m.canvas = m.canvas || L.canvas({ padding: 0.2 });
        options.renderer = m.canvas;
      }
      m.drawn[p.layer] = (m.drawn[p.layer] || 0) + 1;
      m.lastAt[p.layer] = performance.now();
      if (!m.firstAt[p.layer]) { m.firstAt[p.layer] = m.lastAt[p.layer]; }
      return L.circleMarker(latlng, options);
    },
    style: function (feature, context) {
      var p = window.ioc.map.props(feature, context);
      var line = feature.geometry && feature.geometry.type.indexOf("LineString") >= 0;
      var k = window.ioc.map.screenScale();
      return {
        color: p.line || p.color || "#333", weight: (p.weight === undefined ? 3 : p.weight) * k,
        opacity: 0.95, fillColor: p.color || "#ccc",
        fillOpacity: line ? 0 : (p.fill_opacity === undefined ? 0.3 : p.fill_opacity),
        lineCap: "round", className: window.ioc.map.cls(p)
      };
    },
    tooltip: function (feature, layer, context) {
      var p = window.ioc.map.props(feature, context);
      if (p.tooltip && !p.cluster) {
        var el = document.createElement("span");
        el.textContent = p.tooltip;
        layer.bindTooltip(el, { sticky: true });
      }
    },
    cluster: function (feature, latlng, index, context) {
      var n = feature.properties.point_count;
      var size = n < 10 ? 34 : (n < 100 ? 42 : 52);
      var el = document.createElement("div");
      var span = document.createElement("span");
      span.textContent = String(n);
      el.appendChild(span);
      return L.marker(latlng, {
        icon: L.divIcon({
          html: el.outerHTML, iconSize: L.point(size, size),
          className: "ioc-cluster ioc-cluster-" + ((context && context.hideout && context.hideout.layer) || "x")
        })
      });
    }
  }
});

window.dash_clientside = Object.assign({}, window.dash_clientside, {
  ioc: {
    /* Wall: show panel n % count, hide the others. */
    rotate: function (n, config) {
      var names = (config && config.panels) || [];
      var active = names.length ? (n || 0) % names.length : 0;
      return names.map(function (_, i) { return i === active ? "ioc-wall-panel active" : "ioc-wall-panel"; });
    },
    /* Wall: the clock, and each "last updated" label red when its data is older than stale_s. */
    staleness: function (n, times, config) {
      // Each panel: its data's time and its source's thresholds (amber past late, red past silent).
      var now = Date.now();
      var names = (config && config.panels) || [];
      var classes = names.map(function (name) {
        var p = times && times[name];
        if (!p || !p.at) { return "ioc-updated ioc-stale"; }
        var age = now - p.at;
        if (age > p.silent_s * 1000) { return "ioc-updated ioc-stale"; }
        if (age > p.late_s * 1000) { return "ioc-updated ioc-late"; }
        return "ioc-updated";
      });
      var clock = new Date().toLocaleTimeString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh", hour12: false });
      return [clock].concat(classes);
    }
  }
});
