"""KPIs of the leaders' cockpit: the Decision 766 index, the KPI catalogue and document figures.

Pure Python (no web imports): ``index766`` computes the index from dossier records,
``dossier_csv`` reads section 8's CSV, ``catalogue`` loads the authored catalogue and ``seed``
maps the shared seed figures onto it. The ``ioc kpi`` commands live in ``cli``.
"""
