"""Reporter name and phone are personal data: triage staff see them (and each view is audited),
everyone else sees them masked — "Nguyễn V. A.", "09******78". Free text is scrubbed of phone
numbers and the reporter's name before it leaves the triage desk (transparency page, exports).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import psycopg

from ioc.audit import audit

if TYPE_CHECKING:
    from ioc.tickets.store import TicketRow, Viewer

# Eight or more digits, possibly split by spaces, dots or dashes, optionally +84: a phone number.
_PHONE_RE = re.compile(r"(?<!\w)\+?\d(?:[ .-]?\d){7,13}(?!\w)")
PHONE_PLACEHOLDER = "[số điện thoại]"
NAME_PLACEHOLDER = "[người phản ánh]"


def mask_name(name: str | None) -> str | None:
    """Family name kept, other names reduced to initials: "Nguyễn Văn An" → "Nguyễn V. A."."""
    if name is None:
        return None
    parts = unicodedata.normalize("NFC", name).split()
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0][0] + "."
    return " ".join([parts[0], *(p[0].upper() + "." for p in parts[1:])])


def mask_phone(phone: str | None) -> str | None:
    """First two and last two digits kept: "0912 345 678" → "09******78"."""
    if phone is None:
        return None
    digits = re.sub(r"\D", "", phone)
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:2] + "*" * (len(digits) - 4) + digits[-2:]


def scrub_text(text: str, reporter_name: str | None = None, reporter_phone: str | None = None) -> str:
    """The text with phone numbers and the reporter's full name replaced by placeholders."""
    out = _PHONE_RE.sub(PHONE_PLACEHOLDER, unicodedata.normalize("NFC", text))
    if reporter_name and reporter_name.strip():
        name = re.escape(unicodedata.normalize("NFC", reporter_name.strip()))
        out = re.sub(name, NAME_PLACEHOLDER, out, flags=re.IGNORECASE)
    if reporter_phone:
        digits = re.sub(r"\D", "", reporter_phone)
        if len(digits) >= 6:
            out = out.replace(digits, PHONE_PLACEHOLDER)
    return out


@dataclass(frozen=True, slots=True)
class ReporterView:
    """The reporter as one viewer may see them."""

    name: str | None = field(repr=False)
    phone: str | None = field(repr=False)
    masked: bool


def reporter_view(conn: psycopg.Connection, viewer: Viewer, ticket: TicketRow) -> ReporterView:
    """Unmasked for triage staff (and written to the audit log), masked for every other role."""
    if not viewer.can_see(ticket):
        raise PermissionError(f"user {viewer.username!r} may not see ticket {ticket.ticket_id!r}")
    if not viewer.is_triage:
        return ReporterView(mask_name(ticket.reporter_name), mask_phone(ticket.reporter_phone), masked=True)
    if ticket.reporter_name is not None or ticket.reporter_phone is not None:
        audit(
            conn,
            viewer.username,
            "ticket.reporter_viewed",
            ticket.ticket_id,
            {"fields": [k for k in ("name", "phone") if getattr(ticket, f"reporter_{k}") is not None]},
        )
    return ReporterView(ticket.reporter_name, ticket.reporter_phone, masked=False)


def visible_text(viewer: Viewer, ticket: TicketRow) -> str:
    """The report text as ``viewer`` may read it (scrubbed for everyone but triage staff)."""
    if viewer.is_triage:
        return ticket.text
    return scrub_text(ticket.text, ticket.reporter_name, ticket.reporter_phone)
