"""Administrative geography of Hải Phòng: boundary sets versioned by effective date, admin-unit
assignment with a spatial index, and import/validation of boundary files.

Modules: ``boundaries`` (model, loading, selection by date, GeoJSON for the map), ``admin``
(point → unit code), ``validate`` (checks on any incoming GeoJSON), ``cli`` (``ioc geodata``),
``build_default`` (generator of the approximate default sets shipped in ``geodata/default/``).
"""
