"""Versioned SQL migrations, applied in order by ``ioc.db.migrate``.

Numbering: 001-009 spine (events, dead letters, offsets, counters), 010-019 web app (users,
sessions, audit), 020-029 alerts, 030-039 citizen tickets.
"""
