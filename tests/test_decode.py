"""streams.decode.decode: every rejection reason, with a reason text naming the field and the value."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ioc.crypto import default_keyring
from ioc.sources import SOURCES, SourceKind
from ioc.sources.air import AirEvent
from ioc.sources.camera import CameraEvent
from ioc.sources.feedback import FeedbackEvent
from ioc.sources.traffic import TrafficEvent
from streams.decode import REDACTED, Reason, Rejected, decode, redact_for_deadletter

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
KNOWN = {
    SourceKind.CAMERA: frozenset({"cam-lachtray-01"}),
    SourceKind.TRAFFIC: frozenset({"seg-caubinh-n"}),
    SourceKind.AIR: frozenset({"air-dinhvu"}),
    SourceKind.FEEDBACK: frozenset({"hps-app"}),
}
# Every other declared source: the registered id and the fields of its declared example.
KNOWN |= {k: frozenset({SOURCES[k.value].example().source_id}) for k in SourceKind if k not in KNOWN}
EVENT_ID = "0b6f1c7e-3a57-4f3e-9d8e-2f7d6c1a9b01"
NAME, PHONE = "Nguyễn Văn An", "0912 345 678"


def wire(kind: SourceKind, **changes: Any) -> dict[str, Any]:
    """A valid wire message of ``kind`` as a dict; ``changes`` override fields (``...`` removes one)."""
    msg: dict[str, Any] = {
        "event_id": EVENT_ID,
        "source_id": next(iter(KNOWN[kind])),
        "event_time": (NOW - timedelta(minutes=2)).isoformat(),
        "schema_version": 1,
    }
    msg |= {
        SourceKind.CAMERA: {
            "online": True,
            "counts": {"motorbike": 41, "car": 7},
            "detections": [{"type": "flooding", "confidence": 0.83}],
        },
        SourceKind.TRAFFIC: {
            "speed_kmh": 23.5,
            "volume_vph": 1800,
            "occupancy_pct": 31.0,
            "free_flow_kmh": 50,
        },
        SourceKind.AIR: {
            "pm25": 48.2,
            "pm10": 71.0,
            "no2": 22.0,
            "so2": 5.1,
            "o3": 40.0,
            "co": 900.0,
            "temperature_c": 27.5,
            "humidity_pct": 81,
        },
        SourceKind.FEEDBACK: {
            "ticket_id": "HP-2026-000123",
            "category": "moi_truong",
            "text": "Đường Lạch Tray ngập sâu sau mưa",
            "lon": 106.6881,
            "lat": 20.8449,
            "photo_urls": ["https://example.invalid/a.jpg"],
            "channel": "app",
            # The producer contract: personal fields travel encrypted with the city's key.
            "reporter_name": default_keyring().encrypt(NAME, "ioc.feedback.reporter_name"),
            "reporter_phone": default_keyring().encrypt(PHONE, "ioc.feedback.reporter_phone"),
        },
    }.get(kind) or _example_fields(kind)
    for k, v in changes.items():
        if v is ...:
            msg.pop(k)
        else:
            msg[k] = v
    return msg


def _example_fields(kind: SourceKind) -> dict[str, Any]:
    """The kind-specific fields of the source's declared example (its time moved to the test's)."""
    ex = SOURCES[kind.value].example()
    shift = (NOW - timedelta(minutes=2)) - ex.event_time
    data = json.loads(ex.to_json())
    for name in ("period_start",):  # times inside the event move with it
        if name in data:
            data[name] = (getattr(ex, name) + shift).isoformat()
    return {k: v for k, v in data.items() if k not in ("event_id", "source_id", "event_time", "schema_version")}


def run(kind: SourceKind, msg: dict[str, Any] | bytes | None, **kw: Any) -> Any:
    raw = msg if isinstance(msg, bytes | None) else json.dumps(msg).encode()
    return decode(kind, raw, known_sources=kw.pop("known", KNOWN), now=NOW, **kw)


def rejected(kind: SourceKind, msg: dict[str, Any] | bytes | None, code: Reason, **kw: Any) -> Rejected:
    out = run(kind, msg, **kw)
    assert isinstance(out, Rejected), f"expected {code}, got an accepted event {out!r}"
    assert out.code is code, out
    return out


# -- acceptance --------------------------------------------------------------------------------

EXPECTED_CLASS = {
    SourceKind.CAMERA: CameraEvent,
    SourceKind.TRAFFIC: TrafficEvent,
    SourceKind.AIR: AirEvent,
    SourceKind.FEEDBACK: FeedbackEvent,
} | {k: SOURCES[k.value].event for k in SourceKind}


@pytest.mark.parametrize("kind", list(SourceKind))
def test_valid_event_of_each_kind_is_accepted_with_its_values(kind):
    out = run(kind, wire(kind))
    assert isinstance(out, EXPECTED_CLASS[kind])
    assert out.event_id == uuid.UUID(EVENT_ID)
    assert out.source_id == next(iter(KNOWN[kind]))
    assert out.event_time == NOW - timedelta(minutes=2)
    assert out.schema_version == 1


def test_accepted_values_round_trip():
    traffic = run(SourceKind.TRAFFIC, wire(SourceKind.TRAFFIC))
    assert (traffic.speed_kmh, traffic.volume_vph, traffic.occupancy_pct) == (23.5, 1800.0, 31.0)
    camera = run(SourceKind.CAMERA, wire(SourceKind.CAMERA))
    assert camera.counts.motorbike == 41 and camera.detections[0].confidence == 0.83
    feedback = run(SourceKind.FEEDBACK, wire(SourceKind.FEEDBACK))
    assert feedback.text == "Đường Lạch Tray ngập sâu sau mưa"
    # The event's own wire form decodes to an equal event.
    assert run(SourceKind.FEEDBACK, feedback.to_json()) == feedback


def test_old_event_is_accepted_by_decode_lateness_is_the_consumers_call():
    out = run(SourceKind.AIR, wire(SourceKind.AIR, event_time=(NOW - timedelta(days=3)).isoformat()))
    assert isinstance(out, AirEvent)


def test_unregistered_sources_accepted_when_registry_not_given():
    out = run(SourceKind.TRAFFIC, wire(SourceKind.TRAFFIC, source_id="seg-nowhere"), known=None)
    assert isinstance(out, TrafficEvent)


def test_optional_air_readings_may_be_null():
    out = run(SourceKind.AIR, wire(SourceKind.AIR, so2=None, o3=...))
    assert isinstance(out, AirEvent) and out.so2 is None and out.o3 is None


# -- not_json ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", [b"not json at all", b'{"event_id": ', b"\xff\xfe\x00garbage", b"", b"{'a': 1}"]
)
def test_not_json(raw):
    out = rejected(SourceKind.TRAFFIC, raw, Reason.NOT_JSON)
    assert out.reason.startswith("not valid JSON")
    assert out.field is None


def test_tombstone_is_not_json():
    out = rejected(SourceKind.AIR, None, Reason.NOT_JSON)
    assert "tombstone" in out.reason


# -- wrong_type --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        (SourceKind.TRAFFIC, "speed_kmh", "fast"),
        (SourceKind.AIR, "pm25", [1, 2]),
        (SourceKind.CAMERA, "online", "maybe"),
        (SourceKind.FEEDBACK, "lon", {"x": 1}),
        (SourceKind.TRAFFIC, "event_id", "not-a-uuid"),
        (SourceKind.AIR, "event_time", "yesterday"),
    ],
)
def test_wrong_type_names_field_and_value(kind, field, value):
    out = rejected(kind, wire(kind, **{field: value}), Reason.WRONG_TYPE)
    assert out.field == field
    assert out.reason.startswith(f"{field}={value!r}"), out.reason


def test_naive_timestamp_is_wrong_type():
    out = rejected(
        SourceKind.TRAFFIC, wire(SourceKind.TRAFFIC, event_time="2026-11-23T07:58:00"), Reason.WRONG_TYPE
    )
    assert out.field == "event_time" and "'2026-11-23T07:58:00'" in out.reason and "timezone" in out.reason


def test_nested_wrong_type_names_the_path():
    out = rejected(SourceKind.CAMERA, wire(SourceKind.CAMERA, counts={"car": "many"}), Reason.WRONG_TYPE)
    assert out.field == "counts.car" and out.reason.startswith("counts.car='many'")


def test_json_that_is_not_an_object_is_wrong_type():
    out = rejected(SourceKind.AIR, b"[1, 2, 3]", Reason.WRONG_TYPE)
    assert out.reason.startswith("message=[1, 2, 3]")


def test_wrong_type_value_is_shortened_in_reason():
    out = rejected(SourceKind.TRAFFIC, wire(SourceKind.TRAFFIC, speed_kmh="x" * 10_000), Reason.WRONG_TYPE)
    assert len(out.reason) < 300


@pytest.mark.parametrize("value", [True, "12"])
def test_number_field_does_not_coerce_other_json_types(value):
    out = rejected(SourceKind.TRAFFIC, wire(SourceKind.TRAFFIC, speed_kmh=value), Reason.WRONG_TYPE)
    assert out.reason.startswith(f"speed_kmh={value!r}")


def test_bare_number_is_not_a_timestamp():
    out = rejected(SourceKind.AIR, wire(SourceKind.AIR, event_time=1_700_000_000), Reason.WRONG_TYPE)
    assert out.field == "event_time" and out.reason.startswith("event_time=1700000000")


def test_control_characters_in_quoted_input_are_escaped():
    out = rejected(SourceKind.AIR, wire(SourceKind.AIR, **{"bad\x00name": 1}), Reason.UNKNOWN_FIELD)
    assert "\x00" not in out.reason and "\\x00" in out.reason
    assert out.reason == "unknown field 'bad\\x00name'"
    out = rejected(SourceKind.TRAFFIC, wire(SourceKind.TRAFFIC, speed_kmh="tốc\x07độ"), Reason.WRONG_TYPE)
    assert out.reason.isprintable()


def test_huge_unknown_field_name_is_capped():
    out = rejected(SourceKind.TRAFFIC, wire(SourceKind.TRAFFIC, **{"k" * 100_000: 1}), Reason.UNKNOWN_FIELD)
    assert len(out.reason) < 300


# -- missing_field -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        (SourceKind.TRAFFIC, "speed_kmh"),
        (SourceKind.TRAFFIC, "event_id"),
        (SourceKind.AIR, "event_time"),
        (SourceKind.CAMERA, "online"),
        (SourceKind.FEEDBACK, "text"),
        (SourceKind.FEEDBACK, "source_id"),
    ],
)
def test_missing_field(kind, field):
    out = rejected(kind, wire(kind, **{field: ...}), Reason.MISSING_FIELD)
    assert out.field == field
    assert out.reason == f"missing required field '{field}'"


# -- out_of_range ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        (SourceKind.TRAFFIC, "speed_kmh", 480.0),
        (SourceKind.TRAFFIC, "occupancy_pct", -3.0),
        (SourceKind.TRAFFIC, "free_flow_kmh", 0),
        (SourceKind.AIR, "pm25", 99_999.0),
        (SourceKind.AIR, "humidity_pct", 140),
        (SourceKind.AIR, "temperature_c", -60.5),
        (SourceKind.FEEDBACK, "lat", 106.68),  # swapped lon/lat
        (SourceKind.FEEDBACK, "lon", 0.0),
        (SourceKind.FEEDBACK, "photo_urls", ["https://example.invalid/p.jpg"] * 21),
        (SourceKind.FEEDBACK, "text", ""),
        (SourceKind.FEEDBACK, "ticket_id", "T" * 65),
    ],
)
def test_out_of_range_names_field_and_value(kind, field, value):
    out = rejected(kind, wire(kind, **{field: value}), Reason.OUT_OF_RANGE)
    assert out.field == field
    shown = repr(value)
    shown = shown if len(shown) <= 120 else shown[:120] + "…"  # long values are capped
    if kind is SourceKind.FEEDBACK and field == "text":
        shown = "(value withheld: personal data)"  # a report's free text may quote names and phones
    assert out.reason.startswith(f"{field}={shown} out of range"), out.reason


# -- personal data never reaches a reason --------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("reporter_phone", PHONE, Reason.WRONG_TYPE),  # in clear on the topic: breaks the producer contract
        ("reporter_name", NAME, Reason.WRONG_TYPE),
        ("reporter_phone", "call 0912-345-678 now", Reason.WRONG_TYPE),
        ("reporter_phone", 912345678, Reason.WRONG_TYPE),
        ("text", "Tôi là Nguyễn Văn An, gọi 0912 345 678" * 200, Reason.OUT_OF_RANGE),
    ],
)
def test_personal_values_are_never_quoted_in_a_reason(field, value, code):
    out = rejected(SourceKind.FEEDBACK, wire(SourceKind.FEEDBACK, **{field: value}), code)
    assert out.field == field
    for secret in ("0912", "345", "Nguyễn", "An,"):
        assert secret not in out.reason, out.reason
    assert "value withheld" in out.reason or "must be encrypted" in out.reason


def test_an_encrypted_phone_that_is_not_a_phone_is_refused_without_its_value():
    bad = default_keyring().encrypt("call me maybe 0912", "ioc.feedback.reporter_phone")
    out = rejected(SourceKind.FEEDBACK, wire(SourceKind.FEEDBACK, reporter_phone=bad), Reason.WRONG_TYPE)
    assert "0912" not in out.reason and out.field == "reporter_phone"


def test_a_ciphertext_moved_to_another_field_does_not_decrypt():
    name = wire(SourceKind.FEEDBACK)["reporter_name"]
    out = rejected(SourceKind.FEEDBACK, wire(SourceKind.FEEDBACK, reporter_phone=name), Reason.WRONG_TYPE)
    assert out.field == "reporter_phone" and "does not decrypt" in out.reason


def test_redact_for_deadletter_keeps_only_encrypted_personal_fields():
    clear = json.dumps(wire(SourceKind.FEEDBACK, reporter_phone=PHONE, reporter_name=NAME, lat=99)).encode()
    out = json.loads(redact_for_deadletter(SourceKind.FEEDBACK, clear))
    assert out["reporter_phone"] == REDACTED and out["reporter_name"] == REDACTED and out["lat"] == 99
    sealed = json.dumps(wire(SourceKind.FEEDBACK, lat=99)).encode()
    assert redact_for_deadletter("feedback", sealed) == sealed  # the contract's envelopes are kept
    junk = b"ten: Nguyen Van An, sdt 0912345678"
    withheld = redact_for_deadletter("feedback", junk)
    assert b"0912" not in withheld and b"Nguyen" not in withheld and b"sha256" in withheld
    air = json.dumps(wire(SourceKind.AIR, pm25=-1)).encode()
    assert redact_for_deadletter(SourceKind.AIR, air) == air


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_out_of_range(literal):
    raw = json.dumps(wire(SourceKind.TRAFFIC, speed_kmh=1.25)).replace("1.25", literal).encode()
    out = rejected(SourceKind.TRAFFIC, raw, Reason.OUT_OF_RANGE)
    assert out.field == "speed_kmh"


def test_nested_out_of_range():
    msg = wire(SourceKind.CAMERA, detections=[{"type": "fire_smoke", "confidence": 1.7}])
    out = rejected(SourceKind.CAMERA, msg, Reason.OUT_OF_RANGE)
    assert out.field == "detections.0.confidence" and "=1.7 out of range" in out.reason


# -- unknown_field -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(SourceKind))
def test_unknown_field(kind):
    out = rejected(kind, wire(kind, wind_speed=4.2), Reason.UNKNOWN_FIELD)
    assert out.field == "wind_speed"
    assert out.reason == "unknown field 'wind_speed'"


# -- unknown_source ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(SourceKind))
def test_unknown_source(kind):
    out = rejected(kind, wire(kind, source_id="ghost-42"), Reason.UNKNOWN_SOURCE)
    assert out.field == "source_id"
    assert out.reason == f"unknown {kind.value} source 'ghost-42'"


def test_source_of_another_kind_is_unknown_here():
    out = rejected(
        SourceKind.TRAFFIC, wire(SourceKind.TRAFFIC, source_id="air-dinhvu"), Reason.UNKNOWN_SOURCE
    )
    assert "'air-dinhvu'" in out.reason


# -- future_timestamp --------------------------------------------------------------------------


def test_future_timestamp_names_time_and_distance():
    when = NOW + timedelta(days=2)
    out = rejected(SourceKind.AIR, wire(SourceKind.AIR, event_time=when.isoformat()), Reason.FUTURE_TIMESTAMP)
    assert out.field == "event_time"
    assert out.reason == f"event_time {when.isoformat()} is 172800 s in the future"


def test_future_tolerance_boundary():
    within = wire(SourceKind.TRAFFIC, event_time=(NOW + timedelta(minutes=4)).isoformat())
    beyond = wire(SourceKind.TRAFFIC, event_time=(NOW + timedelta(minutes=6)).isoformat())
    assert isinstance(run(SourceKind.TRAFFIC, within), TrafficEvent)
    rejected(SourceKind.TRAFFIC, beyond, Reason.FUTURE_TIMESTAMP)
    # A custom tolerance moves the boundary.
    rejected(SourceKind.TRAFFIC, within, Reason.FUTURE_TIMESTAMP, future_tolerance=timedelta(minutes=1))


def test_future_timestamp_in_another_zone():
    when = (NOW + timedelta(hours=3)).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Ho_Chi_Minh"))
    out = rejected(
        SourceKind.CAMERA, wire(SourceKind.CAMERA, event_time=when.isoformat()), Reason.FUTURE_TIMESTAMP
    )
    assert "10800 s in the future" in out.reason


# -- unsupported_version -----------------------------------------------------------------------


@pytest.mark.parametrize("version", [2, 0, 99, "v1"])
def test_unsupported_version(version):
    out = rejected(
        SourceKind.TRAFFIC, wire(SourceKind.TRAFFIC, schema_version=version), Reason.UNSUPPORTED_VERSION
    )
    assert out.field == "schema_version"
    assert out.reason == f"unsupported schema_version {version!r}"
