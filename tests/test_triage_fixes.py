"""Triage fixes (issue 17, item 7): photos the product serves, a mini-map with the street base and the
unit outline, time left in working hours beside the clock deadline, confirmation never moves back."""

from __future__ import annotations

import json
import struct
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from plotly.utils import PlotlyJSONEncoder

from ioc.accounts import add_user
from ioc.sources.feedback import FeedbackEvent
from ioc.tickets.workflow import Change, Kind, Status, apply, replay
from ioc.web import ids
from ioc.web import tickets_views as views
from ioc.web.photos import RULE, photo_png
from simulators.reports import _photo
from tests.test_tickets_pages import NOW, qrow, ticket_row
from tests.webclient import PASSWORD, login

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]


def ch(kind: Kind, minutes: int, **kw: Any) -> Change:
    return Change(kind, T0 + timedelta(minutes=minutes), kw.pop("actor", "an"), **kw)


def assigned_by_routing() -> list[Change]:
    """A ticket auto-routed on the classifier's suggestion, before anyone confirmed the category."""
    return [
        ch(Kind.RECEIVED, 0, actor="intake", deadline=T0 + timedelta(days=1)),
        ch(Kind.CLASSIFIED, 1, actor="classifier", category="environment", auto=True),
        ch(Kind.ASSIGNED, 2, actor="router", owner_kind="agency", owner_code="SNNMT", owner_name="Sở NN&MT"),
    ]


def test_confirming_the_category_never_moves_a_ticket_backwards() -> None:
    state = replay([*assigned_by_routing(), ch(Kind.CLASSIFIED, 5, category="environment")])
    assert state.status is Status.ASSIGNED and state.category == "environment" and state.category_confirmed
    assert state.owner_code == "SNNMT"
    confirmed_twice = apply(state, ch(Kind.CLASSIFIED, 6, category="environment"))
    assert confirmed_twice.status is Status.ASSIGNED
    # A different category is a reclassification: the owner may no longer be right.
    assert apply(state, ch(Kind.CLASSIFIED, 7, category="traffic")).status is Status.CLASSIFIED
    # From "received" confirming classifies, as before.
    assert replay(
        [ch(Kind.RECEIVED, 0, actor="intake"), ch(Kind.CLASSIFIED, 1, category="traffic")]
    ).status is (Status.CLASSIFIED)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    w, h = struct.unpack(">II", data[16:24])
    idat = data.index(b"IDAT")
    (length,) = struct.unpack(">I", data[idat - 4 : idat])
    raw = zlib.decompress(data[idat + 4 : idat + 4 + length])
    assert len(raw) == h * (1 + 3 * w)  # every row: filter byte + RGB pixels
    return w, h


def test_simulated_photos_are_small_real_images_the_product_serves() -> None:
    png = photo_png("HP-20261123-0001", 1)
    assert _png_size(png) == (240, 160) and len(png) < 20_000
    assert png == photo_png("HP-20261123-0001", 1) != photo_png("HP-20261123-0001", 2)
    url = _photo("HP-20261123-0001", 0)
    FeedbackEvent.model_validate({"event_id": uuid.uuid4(), "ticket_id": "HP-1", "text": "ngập", "lon": 106.68, "lat": 20.85,
                                  "source_id": "hps-app", "event_time": T0, "photo_urls": [url]})  # fmt: skip
    assert views.photo_src(url) == "/media/sim/HP-20261123-0001/1.png"
    assert views.photo_src("https://cdn.example.org/a.jpg") == "https://cdn.example.org/a.jpg"
    sources = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "simulators").glob("*.py"))
    assert ".example/" not in sources  # no report points at a domain that does not exist


def test_time_left_says_working_hours_beside_the_clock_deadline() -> None:
    deadline = NOW + timedelta(hours=27)
    html_ = json.dumps(views.queue_table([qrow(1, deadline)], now=NOW, lang="vi", viewer=views.Viewer("lan", "leader"),
                                         catalog=views.catalog()), cls=PlotlyJSONEncoder, ensure_ascii=False)  # fmt: skip
    assert "phút làm việc" in html_ and "hạn 13:00 24/11/2026" in html_ and "Tính theo giờ làm việc" in html_
    en = views.fmt_left(timedelta(hours=9, minutes=30), "en")
    assert en == "9 h 30 min of working time left"


def test_the_mini_map_shows_the_street_base_and_the_unit_outline() -> None:
    layer = views.map_layer(ticket_row(admin_unit="Phường Lê Chân"))
    outline = [c for c in layer if type(c).__name__ == "GeoJSON"]
    assert len(outline) == 1 and outline[0].data["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert len(json.dumps(outline[0].data)) < 30_000  # simplified for a 220 px map
    from datetime import date

    from geodata.boundaries import boundary_set_for
    from geodata.names import unit_outline

    sizes = [len(json.dumps(unit_outline(u.full_name))) for u in boundary_set_for(date.today()).features]
    assert max(sizes) < 40_000 and sum(sizes) / len(sizes) < 5_000  # Cát Hải's 158 islands included
    assert [type(c).__name__ for c in views.map_layer(ticket_row(admin_unit=None))] == ["CircleMarker"]
    src = (ROOT / "ioc" / "web" / "pages" / "triage.py").read_text(encoding="utf-8")
    assert 'basemap.layers("triage", "light")' in src and 'register_band_switch("triage"' in src
    assert ids.base_layer("triage", "roads") == {"type": "base-layer", "page": "triage", "name": "roads"}


@pytest.fixture
def app(stack) -> Iterator[Any]:  # noqa: ANN001
    from ioc.web.app import create_app

    a = create_app(stack.settings, start=False)
    yield a
    a.server.extensions["ioc"]["pool"].close()


@pytest.mark.integration
def test_the_photo_route_is_served_to_the_desk_only(app: Any, pg_dsn: str) -> None:
    from ioc.access import ROUTES, Role

    assert Role.TRIAGE in ROUTES[f"GET {RULE}"] and Role.DISPLAY not in ROUTES[f"GET {RULE}"]
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        add_user(conn, "an", PASSWORD, "triage")
        add_user(conn, "tuong", PASSWORD, "display")
    desk = app.server.test_client()
    assert login(desk, "an", next_path="/triage").status_code in (302, 303)
    r = desk.get("/media/sim/HP-1/2.png")
    assert r.status_code == 200 and r.mimetype == "image/png" and _png_size(r.data) == (240, 160)
    assert desk.get("/media/sim/HP-1/99.png").status_code == 404
    wall = app.server.test_client()
    login(wall, "tuong", next_path="/wall")
    assert wall.get("/media/sim/HP-1/2.png").status_code in (302, 403)
    assert app.server.test_client().get("/media/sim/HP-1/2.png").status_code in (302, 401, 403)
