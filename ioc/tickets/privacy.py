"""Personal data in reports (Decree 13/2023/NĐ-CP): masking, scrubbing, public de-identification.

Triage staff see the reporter's name and phone (each view is audited); every other role sees them
masked — "Nguyễn V. A.", "09******78". Free text shown outside the triage desk is scrubbed
(:func:`scrub_text`): phone numbers, e-mail addresses, national ID and vehicle plate numbers, the
reporter's name, names introduced in the text ("tôi là …", "chị Lan", "ông Nguyễn Văn B") and
house numbers are replaced by placeholders. What is published (transparency page, public Open311)
is de-identified further (:func:`public_text`, :func:`public_point`, :func:`public_media`): text
scrubbed and capped, coordinates rounded to about 100 m, only ``https`` photo links.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import psycopg

from ioc.audit import audit

if TYPE_CHECKING:
    from ioc.tickets.store import TicketRow, Viewer

PHONE_PLACEHOLDER = "[số điện thoại]"
NAME_PLACEHOLDER = "[người phản ánh]"
PERSON_PLACEHOLDER = "[tên người]"
EMAIL_PLACEHOLDER = "[email]"
ID_PLACEHOLDER = "[số giấy tờ]"
PLATE_PLACEHOLDER = "[biển số]"
HOUSE_PLACEHOLDER = "[số nhà]"
PUBLIC_TEXT_MAX = 1000  # characters of a report shown to the public
PUBLIC_ANSWER_MAX = 2000
PUBLIC_DECIMALS = 3  # 0.001° ≈ 110 m north-south, ≈ 100 m east-west at Hải Phòng's latitude

# Eight or more digits, possibly split by spaces, dots or dashes, optionally +84: a phone number.
_PHONE_RE = re.compile(r"(?<!\w)\+?\d(?:[ .-]?\d){7,13}(?!\w)")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Citizen ID (CCCD, 12 digits, before phones) and the old ID card (CMND, 9 digits, after phones).
_CCCD_RE = re.compile(r"(?<![\w.])\d{12}(?![\w.])")
_ID_RE = re.compile(r"(?<![\w.])\d{9}(?![\w.])")
# Vietnamese plates: 15A-123.45, 15A1-234.56, 29LD 12345, 15B12345.
_PLATE_RE = re.compile(r"(?<!\w)\d{2}\s?[A-ZĐ]{1,2}\d?[\s-]?\d{3}\.?\d{1,2}(?!\w)")
# House numbers: "số nhà 45", "nhà số 12A", "nhà 7", "SN 3/2", and "số 45" before a street ("số 45 Lạch
# Tray", "số 12 ngõ 5"); "phản ánh số 1" and counts stay.
_NUM = r"\d+[A-Za-z]?(?:/\d+[A-Za-z]?)*"
_HOUSE_RE = re.compile(rf"(?<!\w)((?:số\s+nhà|nhà\s+số|nhà|sn)\s*)({_NUM})(?!\w)", re.IGNORECASE | re.UNICODE)
_UPPER = "A-ZÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬĐÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ"
_STREET_NUM_RE = re.compile(  # "số 45" before a street keyword or a capitalised street name
    rf"(?<!\w)((?i:số)\s+)({_NUM})(?=\s+(?:(?i:phố|đường|ngõ|ngách|hẻm|kiệt|tổ)\b|[{_UPPER}]))", re.UNICODE
)
_NAME_WORD = rf"[{_UPPER}][^\W\d_]*"
# A name after an introduction or a kinship/courtesy word: "tôi là Trần Văn Bình", "chị Lan", "ông Hùng".
_INTRO = (r"tôi\s+là|tên\s+tôi\s+là|tên\s+là|tôi\s+tên|em\s+là|mình\s+là|người\s+phản\s+ánh\s*:?|"
          r"họ\s+tên\s*:?|liên\s+hệ\s*:?|chị|anh|ông|bà|cô|chú|bác|em|cháu|cụ|gia\s+đình|nhà\s+ông|nhà\s+bà")
_NAMED_RE = re.compile(rf"(?<!\w)((?i:{_INTRO})\s+)({_NAME_WORD}(?:\s+{_NAME_WORD}){{0,3}})", re.UNICODE)
_LOWER_INTRO_RE = re.compile(r"(?<!\w)((?:tôi\s+là|tên\s+tôi\s+là|tôi\s+tên)\s+)([^\W\d_]+(?:\s+[^\W\d_]+){0,3})",
                             re.IGNORECASE | re.UNICODE)  # fmt: skip


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
    """The text without personal data: phones, e-mails, ID and plate numbers, the reporter's name and
    names the text introduces, house numbers. Street names, alley numbers and counts stay."""
    out = unicodedata.normalize("NFC", text)
    out = _EMAIL_RE.sub(EMAIL_PLACEHOLDER, out)
    out = _PLATE_RE.sub(PLATE_PLACEHOLDER, out)
    out = _CCCD_RE.sub(ID_PLACEHOLDER, out)
    out = _PHONE_RE.sub(PHONE_PLACEHOLDER, out)
    out = _ID_RE.sub(ID_PLACEHOLDER, out)
    if reporter_phone:
        digits = re.sub(r"\D", "", reporter_phone)
        if len(digits) >= 6:
            out = out.replace(digits, PHONE_PLACEHOLDER)
    if reporter_name and reporter_name.strip():
        name = unicodedata.normalize("NFC", " ".join(reporter_name.split()))
        out = re.sub(r"\s+".join(map(re.escape, name.split())), NAME_PLACEHOLDER, out, flags=re.IGNORECASE)
    out = _LOWER_INTRO_RE.sub(lambda m: m.group(1) + NAME_PLACEHOLDER, out)
    out = _NAMED_RE.sub(lambda m: m.group(1) + PERSON_PLACEHOLDER, out)
    out = _HOUSE_RE.sub(lambda m: m.group(1) + HOUSE_PLACEHOLDER, out)
    out = _STREET_NUM_RE.sub(lambda m: m.group(1) + HOUSE_PLACEHOLDER, out)
    return out


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def public_text(text: str | None, reporter_name: str | None = None, reporter_phone: str | None = None,
                limit: int = PUBLIC_TEXT_MAX) -> str:  # fmt: skip
    """What the public may read of a report or an answer: scrubbed, control characters removed, capped."""
    if not text:
        return ""
    clean = "".join(c if c.isprintable() or c in "\n" else " " for c in text)
    return _cap(scrub_text(clean, reporter_name, reporter_phone), limit)


def public_point(lat: float, lon: float) -> tuple[float, float]:
    """Coordinates rounded to about 100 m: the street, not the house."""
    return round(lat, PUBLIC_DECIMALS), round(lon, PUBLIC_DECIMALS)


def public_media(urls: list[str] | tuple[str, ...], limit: int = 500) -> list[str]:
    """Only absolute ``https`` links without credentials (no ``javascript:``, ``data:`` or ``http:``)."""
    out = []
    for u in urls:
        if not isinstance(u, str) or len(u) > limit or any(c.isspace() or not c.isprintable() for c in u):
            continue
        parts = urlsplit(u)
        if parts.scheme == "https" and parts.hostname and "@" not in parts.netloc:
            out.append(u)
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
