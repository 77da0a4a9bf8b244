"""Push, not poll: ``GET /live/stream`` tells open pages about each new snapshot (Server-Sent Events).

The stream is an ordinary route (``ioc.access.ROUTES``: logged-in users; the session is checked when
it opens, and it closes itself after :data:`MAX_STREAM_SECONDS` so the browser reconnects and is
checked again). Each event carries only what changed: the snapshot's version, when its tick
started, and the digests of the map layers that changed since the last event (city-wide users; a
ward user's layers are scoped, so only the version is sent). The page's script
(``assets/ioc_push.js``) turns an event into a tick of the page's existing live callback, disables
the page's polling interval while the stream is up, and turns polling back on (with a
"mất kết nối / đang kết nối lại" notice) when it drops, reconnecting by itself.

A stream holds one server thread while open: at most ``max_streams`` are served at once (the
web server sets it from its thread count); beyond that the route answers 503 and those pages poll.
With several server processes (gunicorn workers) each has its own refresher and pushes to its own
streams: a page hears of a snapshot from the worker that serves its stream.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import flask

from ioc.web import auth, ids
from ioc.web.layer_blobs import payload
from ioc.web.scoping import scoped_snapshot
from ioc.web.snapshot import LiveSnapshot, Snapshot

STREAM_ROUTE = "/live/stream"
PUSH_TICKS = (ids.MAP_TICK, ids.TABLET_TICK, ids.WALL_TICK)  # intervals a push replaces (value unused)
KEEPALIVE_SECONDS = 15.0  # a comment line this often keeps proxies from closing an idle stream
MAX_STREAM_SECONDS = 300.0  # then the browser reconnects, and the session is checked again
RETRY_MS = 3000  # the browser's reconnect delay
DEFAULT_MAX_STREAMS = 4  # without a server that says how many threads it has (gunicorn: set it)
CONFIG_MAX_STREAMS = "IOC_PUSH_MAX_STREAMS"  # flask config key the web server sets
EXTENSION = "ioc_push"


@dataclass
class Streams:
    """The open streams of one server process: a count under a lock, and a switch that ends them."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    open: int = 0
    stopped: threading.Event = field(default_factory=threading.Event)


def stop_streams(server: flask.Flask) -> None:
    """End every open stream (no "bye": the pages fall back to polling) and refuse new ones
    (shutdown, or a test of the fallback)."""
    server.extensions[EXTENSION].stopped.set()


def resume_streams(server: flask.Flask) -> None:
    server.extensions[EXTENSION].stopped.clear()


def sse(event: str, data: dict[str, Any]) -> str:
    """One Server-Sent Event."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def change(snap: Snapshot, view: Snapshot, lang: str, sent: dict[str, str] | None) -> dict[str, Any]:
    """What one stream sends for ``snap``: version, tick start, and the layer digests not yet sent.

    ``view`` is the snapshot as the user may see it; ``sent`` is updated in place (None: layers are
    not sent, for scoped users)."""
    out: dict[str, Any] = {"version": snap.version, "asof": snap.live.asof.isoformat()}
    if sent is not None:
        digests = {lid: r.digest for lid, r in payload(view, 0, lang).items()}  # type: ignore[arg-type]
        out["layers"] = {lid: d for lid, d in digests.items() if sent.get(lid) != d}
        sent.update(digests)
    return out


def events(
    live: LiveSnapshot,
    principal: Any,
    lang: str,
    *,
    keepalive: float,
    max_seconds: float,
    stopped: threading.Event | None = None,
) -> Iterator[str]:
    """The stream's body: a hello, then one event per new snapshot, comments in between."""
    snap = live.current
    sent: dict[str, str] | None = {} if scoped_snapshot(snap, principal) is snap else None
    yield f"retry: {RETRY_MS}\n\n"
    yield sse("hello", {"ticks": list(PUSH_TICKS), **change(snap, snap, lang, sent)})
    version = snap.version
    said = time.monotonic()
    ends = said + max_seconds
    stopped = stopped or threading.Event()
    while time.monotonic() < ends:
        snap = live.wait_for(version, min(keepalive, 1.0, max(0.1, ends - time.monotonic())))
        if stopped.is_set():
            return  # dropped, not renewed: the page polls until a stream is served again
        if snap.version == version:
            if time.monotonic() - said < keepalive:
                continue
            said = time.monotonic()
            yield ": keep-alive\n\n"
            continue
        version, said = snap.version, time.monotonic()
        view = scoped_snapshot(snap, principal) if sent is None else snap
        yield sse("snapshot", change(snap, view, lang, sent))
    yield sse("bye", {"reconnect_ms": RETRY_MS})  # the browser reconnects; the session is checked again


def register(server: flask.Flask, live: LiveSnapshot) -> None:
    """Add :data:`STREAM_ROUTE` (allowed by ``ioc.access.ROUTES``, enforced by the app's policy hook)."""
    streams = server.extensions[EXTENSION] = Streams()

    @server.get(STREAM_ROUTE)
    def live_stream() -> flask.Response:
        """Each new snapshot's changes as Server-Sent Events (see the module docstring)."""
        limit = int(server.config.get(CONFIG_MAX_STREAMS, DEFAULT_MAX_STREAMS))
        with streams.lock:
            if streams.stopped.is_set() or streams.open >= limit:
                r = flask.Response("push streams full: poll instead\n", status=503, mimetype="text/plain")
                r.headers["Retry-After"] = "30"
                return r
            streams.open += 1
        principal, lang = auth.current_principal(), auth.current_lang()

        def release() -> None:
            with streams.lock:
                streams.open -= 1

        stream = _Stream(
            events(
                live,
                principal,
                lang,
                keepalive=KEEPALIVE_SECONDS,
                max_seconds=MAX_STREAM_SECONDS,
                stopped=streams.stopped,
            ),
            release,
        )
        response = flask.Response(stream, mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event through at once
        return response


class _Stream:
    """The response body: releases its slot on close, even when the client left before the first event."""

    def __init__(self, it: Iterator[str], release: Any) -> None:
        self.it, self._release = it, release

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> str:
        return next(self.it)

    def close(self) -> None:
        release, self._release = self._release, None
        try:
            self.it.close()  # type: ignore[attr-defined]
        finally:
            if release is not None:
                release()
