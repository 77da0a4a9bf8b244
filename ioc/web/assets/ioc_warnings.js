/* Simulation layers: the SVG hatch their polygons are filled with, and a permanent "MÔ PHỎNG" label
   on the feature that carries one (layers/simulation.py). Loaded after ioc_map.js (assets load in
   name order), so it wraps the shared tooltip function. Labels are set as text, never HTML. */
(function () {
  function addHatch() {
    if (document.getElementById("ioc-hatch")) { return; }
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("width", "0"); svg.setAttribute("height", "0");
    svg.setAttribute("aria-hidden", "true"); svg.style.position = "absolute";
    var pattern = document.createElementNS(ns, "pattern");
    pattern.setAttribute("id", "ioc-hatch"); pattern.setAttribute("patternUnits", "userSpaceOnUse");
    pattern.setAttribute("width", "10"); pattern.setAttribute("height", "10");
    pattern.setAttribute("patternTransform", "rotate(45)");
    var bg = document.createElementNS(ns, "rect");
    bg.setAttribute("width", "10"); bg.setAttribute("height", "10"); bg.setAttribute("fill", "rgba(123,31,162,0.12)");
    var line = document.createElementNS(ns, "line");
    line.setAttribute("x1", "0"); line.setAttribute("y1", "0"); line.setAttribute("x2", "0"); line.setAttribute("y2", "10");
    line.setAttribute("stroke", "#7B1FA2"); line.setAttribute("stroke-width", "3");
    pattern.appendChild(bg); pattern.appendChild(line);
    var defs = document.createElementNS(ns, "defs");
    defs.appendChild(pattern); svg.appendChild(defs);
    document.body.appendChild(svg);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", addHatch); } else { addHatch(); }
  var map = (window.ioc && window.ioc.map) || null;
  if (!map) { return; }
  var base = map.tooltip;
  map.tooltip = function (feature, layer, context) {
    var p = (feature && feature.properties) || {};
    if (p.label) {
      var el = document.createElement("span");
      el.textContent = p.label;
      layer.bindTooltip(el, { permanent: true, direction: "center", className: "ioc-sim-label" });
      return;
    }
    return base(feature, layer, context);
  };
}());
