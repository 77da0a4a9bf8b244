"""bytes -> typed event or a precise rejection. Never raises past here.

A rejection's reason names the field at fault and quotes the offending value, except for a
source's personal columns (``personal=True``: the reporter's name and phone), whose values never
appear in a reason, a log or a dead-letter header. :func:`redact_for_deadletter` gives the bytes
to keep of a rejected message: personal fields left only if encrypted."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import ValidationError

from ioc.crypto import is_encrypted
from ioc.events import Event
from ioc.sources import EVENT_CLASSES, SOURCES, SourceKind


class Reason(StrEnum):
    """Why a message was dead-lettered (also produced by the simulators' malformed generator)."""

    NOT_JSON = "not_json"
    WRONG_TYPE = "wrong_type"
    MISSING_FIELD = "missing_field"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_FIELD = "unknown_field"
    UNKNOWN_SOURCE = "unknown_source"
    FUTURE_TIMESTAMP = "future_timestamp"
    UNSUPPORTED_VERSION = "unsupported_version"
    DB_REJECTED = "db_rejected"
    DUPLICATE_CONFLICT = "duplicate_conflict"  # same event_id, different payload (streams.sink)
    MESSAGE_TOO_LARGE = "message_too_large"  # raw bytes over Settings.max_message_bytes (streams.consumer)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message that cannot be stored, with a machine code, a human reason and the field at fault."""

    code: Reason
    reason: str
    field: str | None = None


_RANGE_ERRORS = {
    "greater_than", "greater_than_equal", "less_than", "less_than_equal", "too_long", "too_short",
    "string_too_long", "string_too_short",
}
_MAX_SHOWN = 120
WIRE = "wire"  # the validation context that marks a message read from a topic (see ioc.sources.feedback)
_PERSONAL: dict[SourceKind, frozenset[str]] = {SourceKind(k): frozenset(s.personal_columns) for k, s in SOURCES.items()}
REDACTED = "[redacted: personal data]"
_IDS = frozenset({"event_id", "source_id", "event_time", "schema_version", "ticket_id", "action", "channel", "category"})


def _safe(text: str) -> str:
    """Input quoted in a reason: printable (no NUL or control bytes, which text columns refuse) and short."""
    shown = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return shown if len(shown) <= _MAX_SHOWN else shown[:_MAX_SHOWN] + "…"


def _classify(err: ValidationError, personal: frozenset[str] = frozenset()) -> Rejected:
    first = err.errors(include_url=False)[0]
    etype = first["type"]
    loc = _safe(".".join(str(p) for p in first["loc"])) or None
    msg = _safe(first["msg"])
    field0 = str(first["loc"][0]) if first["loc"] else ""
    # A source with personal columns: those values, and any free text (which may quote a name or a
    # phone number), are never copied into a reason; the reason names the field and the rule.
    withhold = field0 in personal or (bool(personal) and field0 not in _IDS and isinstance(first.get("input"), str))

    def shown() -> str:
        return "(value withheld: personal data)" if withhold else _safe(repr(first.get("input")))

    if etype == "json_invalid" or etype == "json_type":
        return Rejected(Reason.NOT_JSON, f"not valid JSON: {msg}")
    if etype == "missing":
        return Rejected(Reason.MISSING_FIELD, f"missing required field '{loc}'", loc)
    if etype == "extra_forbidden":
        return Rejected(Reason.UNKNOWN_FIELD, f"unknown field '{loc}'", loc)
    if etype in _RANGE_ERRORS:
        return Rejected(Reason.OUT_OF_RANGE, f"{loc}={shown()} out of range: {msg}", loc)
    if loc == "schema_version":
        return Rejected(Reason.UNSUPPORTED_VERSION, f"unsupported schema_version {shown()}", loc)
    return Rejected(Reason.WRONG_TYPE, f"{loc or 'message'}={shown()}: {msg}", loc)


def decode(
    kind: SourceKind,
    raw: bytes | None,
    *,
    known_sources: Mapping[SourceKind, frozenset[str]] | None,
    now: datetime,
    future_tolerance: timedelta = timedelta(minutes=5),
) -> Event | Rejected:
    """Validate one wire message of ``kind``; return the event or why it was rejected."""
    if raw is None:
        return Rejected(Reason.NOT_JSON, "empty message (tombstone)")
    try:
        # Strict at the edge: JSON true or "12" is not a number, a bare number is not a timestamp.
        event = EVENT_CLASSES[kind].model_validate_json(raw, strict=True, context={WIRE: True})
    except ValidationError as err:
        return _classify(err, _PERSONAL[kind])
    if known_sources is not None and event.source_id not in known_sources.get(kind, frozenset()):
        return Rejected(Reason.UNKNOWN_SOURCE, f"unknown {kind.value} source '{_safe(event.source_id)}'", "source_id")
    if event.event_time > now + future_tolerance:
        ahead = event.event_time - now
        return Rejected(
            Reason.FUTURE_TIMESTAMP,
            f"event_time {event.event_time.isoformat()} is {ahead.total_seconds():.0f} s in the future",
            "event_time",
        )
    return event  # type: ignore[return-value]


def redact_for_deadletter(kind: SourceKind | str, raw: bytes | None) -> bytes:
    """The bytes to keep (dead-letter table and topic) of a rejected message of ``kind``.

    For a source with personal columns, a personal field in clear is replaced by a marker
    (encrypted envelopes are kept: they are the producer contract); a message that is not a JSON
    object cannot be inspected, so it is replaced by a note with its length and SHA-256. Other
    sources' bytes are returned unchanged. The consumer calls this before it writes a dead letter.
    """
    data = raw or b""
    personal = _PERSONAL.get(SourceKind(kind), frozenset()) if kind in {k.value for k in SourceKind} else frozenset()
    if not personal:
        return data
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        doc = None
    if not isinstance(doc, dict):
        note = {"redacted": "not a JSON object; withheld because this source carries personal data",
                "length": len(data), "sha256": hashlib.sha256(data).hexdigest()}  # fmt: skip
        return json.dumps(note).encode()
    changed = False
    for name in personal:
        value = doc.get(name)
        if value is not None and not is_encrypted(value):
            doc[name] = REDACTED
            changed = True
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode() if changed else data
