"""Shared helpers of the directive tests: users with recipient memberships, fixed moments."""

from __future__ import annotations

from datetime import datetime

import psycopg

from ioc import accounts
from ioc.accounts import UserError
from ioc.directives.recipients import RecipientKind, add_member, registry
from ioc.directives.store import Actor, with_scope
from ioc.tickets.calendar import TZ
from tests.webclient import PASSWORD

# Wed 3 Feb 2027, 10:00: the day before the Tết Nguyên Đán 2027 break (Thu 4 – Wed 10 Feb).
BEFORE_TET_2027 = datetime(2027, 2, 3, 10, 0, tzinfo=TZ)


def two_wards() -> tuple[str, str]:
    """The first two commune-level recipients of the boundary set in force (never hard-coded)."""
    communes = registry().of_kind(RecipientKind.COMMUNE)
    return communes[0].code, communes[1].code


def add_person(conn: psycopg.Connection, username: str, role: str, recipient: str | None = None,
               *, head: bool = False) -> Actor:  # fmt: skip
    """A user acting for ``recipient``. Until the access model brings the ``ward`` and ``department``
    roles, ``add_user`` refuses them, so such users are ``operator``s scoped by membership."""
    try:
        accounts.add_user(conn, username, PASSWORD, role)
    except UserError:
        if role not in ("ward", "department", "standing_office"):
            raise
        role = "operator" if role != "standing_office" else "leader"
        accounts.add_user(conn, username, PASSWORD, role)
    if recipient is not None:
        add_member(conn, username, recipient, head=head)
    return with_scope(Actor(username, role), conn)
