"""Put messages on the topics at a chosen speed, with a progress bar, optionally recording JSONL.

Publishing goes through a ``send(topic, key, value)`` callable: a Kafka producer in production,
an in-memory list in tests. Pacing schedules every message against a monotonic clock from the
first message's time (``wall = w0 + (t - t0) / speed``), so sleeps never accumulate drift.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TextIO

from tqdm import tqdm

from ioc.sources import SourceKind
from ioc.topics import topic_for
from simulators.malformed import Reason, malformed
from simulators.profiles import to_local
from simulators.wire import Message

Sender = Callable[[str, bytes, bytes], None]


@dataclass
class MemorySender:
    """Collects what would be sent, with the monotonic send time (for tests and benchmarks)."""

    sent: list[tuple[float, str, bytes, bytes]] = field(default_factory=list)

    def __call__(self, topic: str, key: bytes, value: bytes) -> None:
        self.sent.append((time.monotonic(), topic, key, value))


class KafkaSender:
    """kafka-python producer (acks=all, linger 5 ms) behind the ``send`` interface."""

    def __init__(self, bootstrap: str) -> None:
        from ioc.kafka import make_producer

        self.producer = make_producer(bootstrap)

    def __call__(self, topic: str, key: bytes, value: bytes) -> None:
        self.producer.send(topic, key=key, value=value)

    def flush(self) -> None:
        self.producer.flush()

    def close(self) -> None:
        self.producer.flush()
        self.producer.close()


class Pacer:
    """Waits until a message's scheduled wall time; ``speed=None`` means as fast as possible.

    ``wall_clock=True``: a message is due at its own time on the wall clock (stamps already are
    wall-clock instants, e.g. the live city), so past messages go at once and none goes early.
    """

    def __init__(self, speed: float | None, stop: threading.Event | None = None, *,
                 wall_clock: bool = False) -> None:
        if speed is not None and speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = speed
        self.stop = stop or threading.Event()
        self.wall_clock = wall_clock
        self.t0: datetime | None = None
        self.w0 = 0.0

    def wait(self, t: datetime) -> None:
        if self.wall_clock:
            delay = (t - datetime.now(UTC)).total_seconds()
            if delay > 0:
                self.stop.wait(delay)
            return
        if self.speed is None:
            return
        if self.t0 is None:
            self.t0, self.w0 = t, time.monotonic()
            return
        delay = self.w0 + (t - self.t0).total_seconds() / self.speed - time.monotonic()
        if delay > 0:
            self.stop.wait(delay)


def with_malformed(messages: Iterable[Message], share: float, seed: int) -> Iterator[Message]:
    """Mix in malformed messages: after each valid one, with probability ``share``, one bad one.

    Uses its own seeded stream, so the valid messages are the same with or without the bad ones.
    """
    if not 0 <= share < 1:
        raise ValueError(f"malformed share must be in [0, 1), got {share}")
    rng = random.Random(f"{seed}:malformed")
    reasons = list(Reason)
    for msg in messages:
        yield msg
        if share and rng.random() < share:
            bad = malformed(rng, rng.choice(reasons), now=msg.time)
            yield Message(msg.time, bad.topic_kind, bad.key, bad.value, bad.expected_reason_code)


@dataclass
class PublishStats:
    sent: Counter[SourceKind] = field(default_factory=Counter)  # valid messages per source kind
    malformed: Counter[str] = field(default_factory=Counter)  # bad messages per expected reason
    first: datetime | None = None
    last: datetime | None = None
    wall_seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.sent.values()) + sum(self.malformed.values())


def publish(
    messages: Iterable[Message],
    send: Sender,
    *,
    prefix: str = "",
    speed: float | None = None,
    record: TextIO | None = None,
    stop: threading.Event | None = None,
    span: timedelta | None = None,
    progress: bool = True,
    wall_clock: bool = False,
) -> PublishStats:
    """Send every message to its topic, paced at ``speed`` × simulated time; returns what was sent.

    ``span`` (the simulated duration, when known) sizes the progress bar; ``wall_clock`` sends each
    message when the wall clock reaches its time (see :class:`Pacer`).
    """
    stop = stop or threading.Event()
    pacer = Pacer(speed, stop, wall_clock=wall_clock)
    stats = PublishStats()
    started = time.monotonic()
    bar = tqdm(
        total=round(span.total_seconds()) if span else None,
        unit="sim-s",
        disable=not progress,
        dynamic_ncols=True,
        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} sim-s [{elapsed}<{remaining}{postfix}]"
        if span
        else None,
    )
    shown = 0.0
    try:
        for msg in messages:
            if stop.is_set():
                break
            pacer.wait(msg.time)
            if stop.is_set():
                break
            send(topic_for(msg.kind, prefix), msg.key, msg.value)
            if record is not None:
                record.write(msg.to_record() + "\n")
            if msg.reason is None:
                stats.sent[msg.kind] += 1
            else:
                stats.malformed[msg.reason] += 1
            stats.first = stats.first or msg.time
            stats.last = msg.time
            now = time.monotonic()
            if progress and now - shown > 0.25:
                shown = now
                elapsed = (msg.time - stats.first).total_seconds()
                bar.update(round(elapsed) - bar.n)
                bar.set_description_str(f"{to_local(msg.time):%Y-%m-%d %H:%M} ICT", refresh=False)
                bar.set_postfix_str(
                    f"sent={stats.total:,} rate={stats.total / max(now - started, 1e-9):,.0f}/s"
                )
    finally:
        stats.wall_seconds = time.monotonic() - started
        if progress and stats.first is not None and stats.last is not None:
            bar.update(round((stats.last - stats.first).total_seconds()) - bar.n)
            bar.set_postfix_str(
                f"sent={stats.total:,} rate={stats.total / max(stats.wall_seconds, 1e-9):,.0f}/s"
            )
        bar.close()
    return stats
