"""Photos of the simulated city's reports: small PNG images the product draws itself.

The report simulator attaches ``…/media/sim/<ticket>/<n>.png`` to a report; the triage desk loads them
from this server (``GET /media/sim/<ticket>/<n>.png``, desk roles: see ioc.access.ROUTES), so a demo
never shows a broken image or sends a browser to a domain that does not exist. Each picture is drawn
from the ticket id (same id, same picture): a street scene with sky, buildings, road and water.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib

import flask

SIM_PHOTO_PREFIX = "/media/sim/"
RULE = SIM_PHOTO_PREFIX + "<ticket_id>/<int:n>.png"
WIDTH, HEIGHT = 240, 160
MAX_PHOTOS = 20  # as many as a report may carry (FeedbackEvent.photo_urls)
_TICKET = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def photo_png(ticket_id: str, n: int) -> bytes:
    """A deterministic 240×160 street scene for photo ``n`` of ``ticket_id`` (a valid PNG, ~2–6 kB)."""
    seed = hashlib.blake2b(f"{ticket_id}/{n}".encode(), digest_size=16).digest()
    horizon = 60 + seed[0] % 30
    water = seed[1] % 3 == 0  # some reports show a flooded street
    buildings = [(seed[2 + i] % WIDTH, 20 + seed[8 + i] % 40, 18 + seed[12 + i % 4] % 30,
                  (120 + seed[i] % 100, 110 + seed[i + 1] % 90, 100 + seed[i + 2] % 80)) for i in range(6)]  # fmt: skip
    rows = bytearray()
    for y in range(HEIGHT):
        rows.append(0)  # filter: none
        for x in range(WIDTH):
            if y < horizon:
                colour = (150 + y // 2, 190 + y // 4, 235)
                for bx, bh, bw, bc in buildings:
                    if bx <= x < bx + bw and y >= horizon - bh:
                        colour = bc if (x - bx) % 6 and (y % 7) else (60, 70, 90)
            elif water and y > horizon + 20:
                colour = (70, 110 + (x + y) % 9, 140)
            else:
                colour = (95, 95, 100) if abs(x - WIDTH // 2 - (y - horizon)) > 3 else (235, 220, 120)
            rows += bytes(colour)
    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
            + _chunk(b"IEND", b""))  # fmt: skip


def photo_url(base: str, ticket_id: str, n: int) -> str:
    """The URL a simulated report carries for its photo ``n`` (1-based)."""
    return f"{base.rstrip('/')}{SIM_PHOTO_PREFIX}{ticket_id}/{n}.png"


def register(server: flask.Flask) -> None:
    """Mount ``GET /media/sim/<ticket>/<n>.png`` (who may call it: ioc.access.ROUTES)."""

    @server.get(RULE)
    def sim_photo(ticket_id: str, n: int) -> flask.Response:
        if not _TICKET.match(ticket_id) or not 1 <= n <= MAX_PHOTOS:
            return flask.Response(status=404)
        response = flask.Response(photo_png(ticket_id, n), mimetype="image/png")
        response.headers["Cache-Control"] = "private, max-age=86400"
        return response
