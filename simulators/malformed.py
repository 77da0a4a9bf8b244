"""Raw messages the consumers must dead-letter, one generator per reason code.

Each message is built from a plausible valid event and then broken in exactly one way, so the
expected reason is unambiguous. Reason codes are shared with the consumers (``streams/``).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from geodata.sites import Site, load_sites
from ioc.sources import SOURCES, SourceKind
from simulators.base import seeded_uuid


class Reason(StrEnum):
    NOT_JSON = "not_json"
    WRONG_TYPE = "wrong_type"
    MISSING_FIELD = "missing_field"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_SOURCE = "unknown_source"
    FUTURE_TIMESTAMP = "future_timestamp"
    UNKNOWN_FIELD = "unknown_field"


class Malformed(NamedTuple):
    topic_kind: SourceKind
    key: bytes
    value: bytes
    expected_reason_code: str


# Fields to break per kind: (field, wrong-typed value, out-of-range value). The wrong types are ones
# pydantic's lax mode cannot coerce (a number from "nhanh" or a boolean from "có lẽ").
_BREAKABLE: dict[SourceKind, tuple[tuple[str, Any, Any], ...]] = {
    SourceKind.TRAFFIC: (
        ("speed_kmh", "nhanh", 412.0),
        ("volume_vph", {"value": 900}, -35.0),
        ("occupancy_pct", [12.5], 140.0),
        ("free_flow_kmh", "năm mươi", 0.0),
    ),
    SourceKind.AIR: (
        ("pm25", "cao", -12.0),
        ("pm10", {"v": 80}, 9_999.0),
        ("humidity_pct", "ẩm", 135.0),
        ("temperature_c", [30], 81.5),
    ),
    SourceKind.CAMERA: (
        ("online", "có lẽ", None),
        ("counts", "nhiều xe", {"motorbike": -4}),
        ("detections", "cháy", [{"type": "crowd", "confidence": 1.7}]),
    ),
    SourceKind.FEEDBACK: (
        ("lon", "phía đông", 2.35),  # Paris: outside Việt Nam
        ("lat", {"deg": 20}, 48.86),
        ("text", 12345, None),
    ),
}
_REQUIRED = {
    SourceKind.TRAFFIC: (
        "source_id",
        "event_time",
        "speed_kmh",
        "volume_vph",
        "occupancy_pct",
        "free_flow_kmh",
    ),
    SourceKind.AIR: ("source_id", "event_time"),
    SourceKind.CAMERA: ("source_id", "event_time", "online"),
    SourceKind.FEEDBACK: ("source_id", "event_time", "ticket_id", "text", "lon", "lat"),
}
_NOT_JSON = (
    b"speed=23.5;occupancy=41",
    b'{"source_id": "seg-caubinh-n", "speed_kmh": 23.5',
    b"\xff\xfe\x00garbage\x00",
    b"",
    b"<xml><pm25>55</pm25></xml>",
)
_UNKNOWN_PREFIX = {
    SourceKind.TRAFFIC: "seg-",
    SourceKind.AIR: "air-",
    SourceKind.CAMERA: "cam-",
    SourceKind.FEEDBACK: "chan-",
}


def _declared_fields(kind: SourceKind) -> tuple[tuple[tuple[str, Any, Any], ...], tuple[str, ...]]:
    """For a source without a hand-written table: its numeric fields with an upper bound (breakable:
    a word for a number, ten times the bound) and its required fields, from the declaration."""
    cls = SOURCES[kind.value].event
    breakable, required = [], ["source_id", "event_time"]
    for name, f in cls.model_fields.items():
        if name in ("event_id", "source_id", "event_time", "schema_version"):
            continue
        if f.is_required():
            required.append(name)
        bound = next((m.le for m in f.metadata if getattr(m, "le", None) is not None), None)
        if bound is not None and f.annotation in (int, float, "int", "float"):
            breakable.append((name, "nhiều", bound * 10 + 1000))
    return tuple(breakable), tuple(required)


def _valid_body(rng: random.Random, kind: SourceKind, site: Site, now: datetime) -> dict[str, Any]:
    base = {"event_id": str(seeded_uuid(rng)), "source_id": site.source_id, "event_time": now.isoformat()}
    if kind not in _BREAKABLE:  # the early-warning sources: their declared example, at this site and time
        ex = SOURCES[kind.value].example()
        data = json.loads(ex.to_json())
        if "period_start" in data:
            data["period_start"] = (now - (ex.event_time - ex.period_start)).isoformat()  # type: ignore[attr-defined]
        if "collection_date" in data:
            data["collection_date"], data["fiscal_year"] = now.date().isoformat(), now.year
        return data | base
    if kind is SourceKind.TRAFFIC:
        ff = float(site.properties.get("free_flow_kmh", 50))
        return base | {"speed_kmh": round(rng.uniform(10, ff), 1), "volume_vph": rng.randint(200, 3000),
                       "occupancy_pct": round(rng.uniform(3, 60), 1), "free_flow_kmh": ff}  # fmt: skip
    if kind is SourceKind.AIR:
        pm25 = round(rng.uniform(10, 90), 1)
        return base | {
            "pm25": pm25,
            "pm10": round(pm25 * 1.6, 1),
            "humidity_pct": 80.0,
            "temperature_c": 24.0,
        }
    if kind is SourceKind.CAMERA:
        return base | {"online": True, "counts": {"motorbike": rng.randint(5, 60), "car": rng.randint(0, 12)},
                       "detections": []}  # fmt: skip
    return base | {"ticket_id": f"PA-BAD-{rng.getrandbits(24):06X}", "category": "other",
                   "text": "Phản ánh thử nghiệm đường ống.", "lon": 106.68, "lat": 20.85,
                   "channel": str(site.properties.get("channel", "app"))}  # fmt: skip


def _tables(kind: SourceKind) -> tuple[tuple[tuple[str, Any, Any], ...], tuple[str, ...]]:
    if kind in _BREAKABLE:
        return _BREAKABLE[kind], _REQUIRED[kind]
    return _declared_fields(kind)


def malformed(
    rng: random.Random,
    kind: Reason | str,
    source_kind: SourceKind | None = None,
    now: datetime | None = None,
) -> Malformed:
    """One raw message broken as ``kind`` (a reason code), on a random or given source topic.

    ``now`` is the simulated time the message is sent at (only the event time it carries).
    """
    reason = Reason(kind)
    # The city's four feeds (the early-warning sources have their own bad-input tests).
    topic_kind = source_kind or rng.choice([k for k in SourceKind if k in _BREAKABLE])
    sites = load_sites(topic_kind)
    site = rng.choice(sites)
    now = now or datetime.fromisoformat("2026-03-10T08:00:00+07:00")
    body = _valid_body(rng, topic_kind, site, now)
    key = site.source_id.encode()
    if reason is Reason.NOT_JSON:
        return Malformed(topic_kind, key, rng.choice(_NOT_JSON), reason.value)
    if reason is Reason.WRONG_TYPE:
        field, wrong, _ = rng.choice(_tables(topic_kind)[0])
        body[field] = wrong
        if rng.random() < 0.2:  # the whole payload is the wrong JSON type
            return Malformed(topic_kind, key, json.dumps([body], ensure_ascii=False).encode(), reason.value)
    elif reason is Reason.MISSING_FIELD:
        del body[rng.choice(_tables(topic_kind)[1])]
    elif reason is Reason.OUT_OF_RANGE:
        field, _, bad = rng.choice([b for b in _tables(topic_kind)[0] if b[2] is not None])
        body[field] = bad
    elif reason is Reason.UNKNOWN_SOURCE:
        bogus = f"{_UNKNOWN_PREFIX.get(topic_kind, 'x-')}khongtontai-{rng.randint(100, 999)}"
        body["source_id"] = bogus
        key = bogus.encode()
    elif reason is Reason.FUTURE_TIMESTAMP:
        # Far ahead of any plausible clock (a device whose RTC was reset to a wrong year).
        body["event_time"] = (now + timedelta(days=rng.randint(36_500, 40_000))).isoformat()
    elif reason is Reason.UNKNOWN_FIELD:
        body[rng.choice(("speed_mph", "pm_25", "gps", "note", "firmware"))] = rng.choice((12, "v2.1", True))
    return Malformed(topic_kind, key, json.dumps(body, ensure_ascii=False).encode(), reason.value)
