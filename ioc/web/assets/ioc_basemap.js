/* The offline base map (ioc/web/basemap.py): calm styles for the light map and tablet and the dark
   wall, zoom-dependent widths, place names as text labels (textContent: never HTML), and the
   band switch that points every base layer at the simplification for the current zoom. */
window.ioc = Object.assign({}, window.ioc, {
  base: {
    palette: {
      light: { sea: "#cfe2ee", water: "#8fbad8", unit: "#8c7fae", trunk: "#e8934a", primary: "#efb56b",
               secondary: "#c9c3b6", tertiary: "#dcd7cc", label: "#3d3a4a", halo: "#ffffff" },
      dark: { sea: "#0c2336", water: "#1f5278", unit: "#5f6f8c", trunk: "#a86a3a", primary: "#8a6c44",
              secondary: "#48505c", tertiary: "#3a414b", label: "#c9d3e0", halo: "#0b0f14" }
    },
    widths: { trunk: 3, primary: 2.4, secondary: 1.4, tertiary: 0.9 },
    colours: function (context) {
      var h = (context && context.hideout) || {};
      return window.ioc.base.palette[h.theme === "dark" ? "dark" : "light"];
    },
    scale: function (context) {
      var z = ((context && context.hideout) || {}).zoom || 11;
      return Math.max(0.6, Math.min(2.2, Math.pow(1.35, z - 11)));
    },
    style: function (feature, context) {
      var base = window.ioc.base, c = base.colours(context), k = base.scale(context);
      var layer = ((context && context.hideout) || {}).layer;
      var p = feature.properties || {};
      if (layer === "sea") { return { stroke: false, fillColor: c.sea, fillOpacity: 1 }; }
      if (layer === "water") {
        return { color: c.water, weight: (p.kind === "river" ? 2.2 : 1.2) * k, opacity: 0.9, fill: false };
      }
      if (layer === "roads") {
        var w = base.widths[p["class"]] || 1;
        return { color: c[p["class"]] || c.tertiary, weight: w * k * (p.link ? 0.7 : 1), opacity: 0.95,
                 lineCap: "round", lineJoin: "round", fill: false };
      }
      if (layer === "boundaries") {
        return { color: c.unit, weight: 1.1 * Math.min(k, 1.4), opacity: 0.8, dashArray: "4 3", fill: false };
      }
      return {};
    },
    filter: function (feature, context) {
      var z = ((context && context.hideout) || {}).zoom || 11;
      var min = (feature.properties || {}).min_zoom;
      return min === undefined || z >= min;
    },
    label: function (feature, latlng, context) {
      var p = feature.properties || {};
      var el = document.createElement("span");
      el.className = "ioc-base-label ioc-base-" + (p.kind || "unit");
      el.textContent = p.name || "";
      return L.marker(latlng, {
        interactive: false, keyboard: false,
        icon: L.divIcon({ className: "ioc-base-label-box", html: el, iconSize: null })
      });
    },
    bandSwitch: function (zoom, hideout, edges, names) {
      var z = Math.floor(zoom === undefined || zoom === null ? 11 : zoom), band = edges[0][0];
      edges.forEach(function (e) { if (z >= e[1] && z <= e[2]) { band = e[0]; } });
      if (z > edges[edges.length - 1][2]) { band = edges[edges.length - 1][0]; }
      var urls = names.map(function (n) { return "/basemap/" + band + "/" + n + ".json"; });
      var hideouts = names.map(function (n) { return Object.assign({}, hideout || {}, { layer: n, zoom: z }); });
      return urls.concat(hideouts);
    }
  }
});
