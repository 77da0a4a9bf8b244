"""Versioned SQL migrations, applied in order by ``ioc.db.migrate``.

Numbering: 001-009 spine (site registry, dead letters, offsets, counters, source kinds; each
source's own table and rollup are generated from its declaration by ``ioc.sources.ddl``), 010-019 web app (users,
sessions, audit), 020-029 alerts, 030-039 citizen tickets.
"""
