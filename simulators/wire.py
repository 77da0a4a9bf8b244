"""Messages as they go on a topic, and their JSONL record form (for ``--record`` and ``replay``).

A record line is ``{"t": ISO time, "kind": "traffic", "key": "seg-…", "event": {…}}`` for a valid
event (the event re-serialises to the exact bytes that were sent), or
``{"t": …, "kind": …, "key_b64": …, "value_b64": …, "reason": "not_json"}`` for a deliberately
malformed one. Bare event objects (no wrapper) are accepted too; their kind is inferred.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ioc.events import Event
from ioc.sources import EVENT_CLASSES, SourceKind


@dataclass(frozen=True)
class Message:
    """One Kafka message: topic kind, key and value bytes, and the time that paces its replay."""

    time: datetime
    kind: SourceKind
    key: bytes
    value: bytes
    reason: str | None = None  # expected dead-letter reason code when malformed on purpose

    @classmethod
    def of(cls, event: Event) -> Message:
        return cls(event.event_time, event.kind, event.key(), event.to_json())

    def to_record(self) -> str:
        head: dict[str, Any] = {"t": self.time.isoformat(), "kind": self.kind.value}
        if self.reason is None:
            head["key"] = self.key.decode()
            head["event"] = json.loads(self.value)
        else:
            head["key_b64"] = base64.b64encode(self.key).decode()
            head["value_b64"] = base64.b64encode(self.value).decode()
            head["reason"] = self.reason
        return json.dumps(head, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_record(cls, line: str, where: str = "") -> Message:
        """Parse a record line; errors name the place (``file:line``) and the problem."""
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: not a JSON line: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected a JSON object, got {type(data).__name__}")
        if "value_b64" in data:
            return cls(
                datetime.fromisoformat(data["t"]),
                SourceKind(data["kind"]),
                base64.b64decode(data.get("key_b64", "")),
                base64.b64decode(data["value_b64"]),
                data.get("reason"),
            )
        body = data.get("event", data)
        kind = SourceKind(data["kind"]) if "kind" in data else infer_kind(body, where)
        try:
            event = EVENT_CLASSES[kind].model_validate(body)
        except ValueError as exc:
            raise ValueError(f"{where}: invalid {kind.value} event: {exc}") from exc
        return cls.of(event)  # type: ignore[arg-type]


def infer_kind(body: dict[str, Any], where: str = "") -> SourceKind:
    """The source kind of a bare event object, from its distinctive field."""
    for field, kind in (
        ("speed_kmh", SourceKind.TRAFFIC),
        ("online", SourceKind.CAMERA),
        ("ticket_id", SourceKind.FEEDBACK),
        ("pm25", SourceKind.AIR),
    ):
        if field in body:
            return kind
    raise ValueError(f"{where}: cannot tell the event kind of {sorted(body)[:8]}")
