"""What every simulated source shares: seeded streams, seeded ids, reporting schedules.

Each source draws from its own ``random.Random`` seeded by ``(seed, name)``, so adding an
incident or a new source never shifts the values another source produces.
"""

from __future__ import annotations

import math
import random
import secrets
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ioc.events import Event
from simulators.scenario import Incident

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def stream_rng(seed: int, name: str) -> random.Random:
    """A private generator for one stream (string seeds hash with SHA-512: stable across runs)."""
    return random.Random(f"{seed}:{name}")


def seeded_uuid(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID drawn from the seeded stream (same seed → same event ids)."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


RUN_NAMESPACE = uuid.UUID("3b0c1d2e-7a51-4f0e-9c1a-5d3e8f6a4b20")  # event ids of one simulator run


def new_run_id() -> str:
    """A short random id naming one run of a simulator or a replay (printed, reusable with --run-id)."""
    return secrets.token_hex(4)


def run_event_id(seed: int | str, run_id: str, original: uuid.UUID) -> uuid.UUID:
    """The event id of ``original`` in one run: unique per (seed, run id), the same for the same pair.

    A drill beside the live city, or the live city's simulator restarted by the supervisor, never
    sends an id the consumers already stored (they dead-letter an id seen with another payload).
    """
    return uuid.uuid5(RUN_NAMESPACE, f"{seed}:{run_id}:{original}")


def in_run(event: Event, seed: int | str, run_id: str | None) -> Event:
    """``event`` with its id minted for the run (unchanged when ``run_id`` is None)."""
    if run_id is None:
        return event
    return event.model_copy(update={"event_id": run_event_id(seed, run_id, event.event_id)})


def phase_s(source_id: str, period_s: int) -> int:
    """Fixed offset of a source's reports inside its period, so sources do not all fire at :00."""
    return zlib.crc32(source_id.encode()) % period_s


def schedule(a: datetime, b: datetime, period_s: int, phase: int) -> Iterator[datetime]:
    """Reporting instants ``EPOCH + k·period + phase`` that fall in ``[a, b)``."""
    offset = (a - EPOCH).total_seconds() - phase
    k = math.ceil(offset / period_s)
    t = EPOCH + timedelta(seconds=k * period_s + phase)
    while t < b:
        if t >= a:
            yield t
        t += timedelta(seconds=period_s)


def poisson(rng: random.Random, lam: float) -> int:
    """Poisson draw from a ``random.Random`` (Knuth for small means, normal approximation above 30)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class Source(Protocol):
    """A simulated source: the events whose time falls in ``[a, b)``, called with consecutive windows."""

    def events(self, a: datetime, b: datetime) -> list[Event]: ...


class IncidentIndex:
    """Incidents by affected source id, for a quick "what touches this source now" lookup."""

    def __init__(self, incidents: tuple[Incident, ...]) -> None:
        self.incidents = incidents
        self._by_source: dict[str, list[Incident]] = {}
        for inc in incidents:
            for source_id in inc.sources:
                self._by_source.setdefault(source_id, []).append(inc)

    def at(self, source_id: str, t: datetime) -> list[tuple[Incident, float]]:
        """Incidents touching the source at time t, with their (non-zero) severity."""
        out = []
        for inc in self._by_source.get(source_id, ()):
            s = inc.severity(t)
            if s > 0:
                out.append((inc, s))
        return out
