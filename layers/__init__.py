"""Map layers as pure builders: ``build(state, lang) -> LayerData`` (GeoJSON features + legend).

Builders read an immutable ``ioc.state.CityState``; they run no queries and register no
callbacks. Styling travels in each feature's properties (``color``, ``radius``, ``weight``,
``tooltip``, ``status``) and is applied by the generic functions in ``ioc/web/assets/ioc_map.js``.
"""
