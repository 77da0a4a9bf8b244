"""Administrative geography and base map of Hải Phòng: boundary sets versioned by effective date,
admin-unit assignment with a spatial index, import/validation of boundary files, zoom-band
simplification for the browser, the offline vector base map and the sensor-site registry.

Modules: ``boundaries`` (model, loading, selection by date, GeoJSON per zoom band, city bounds),
``admin`` (point → unit code), ``validate`` (checks on any incoming GeoJSON), ``bands`` (zoom bands,
coverage simplification, byte counts), ``basemap`` (roads, water, sea, landmarks per band),
``attribution`` (credit lines), ``sites`` (sensor registry), ``cli`` (``ioc geodata``).
Build scripts: ``build_default`` (the bundled boundary sets in ``data/boundary_sets/``) and
``build_basemap`` (the bundled base map in ``data/basemap/``).
"""
