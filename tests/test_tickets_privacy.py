"""Privacy: masking for every role but triage staff, audited unmasked views, ward/agency scoping."""

from __future__ import annotations

import psycopg
import pytest

from ioc.accounts import add_user
from ioc.tickets import store
from ioc.tickets.privacy import mask_name, mask_phone, reporter_view, scrub_text, visible_text
from ioc.tickets.store import QueueFilter, Scope, Viewer
from ioc.tickets.workflow import Change, Kind
from tests.test_tickets_store import at, new
from tests.webclient import PASSWORD


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("Nguyễn Văn An", "Nguyễn V. A."),
        ("Trần Thị Thu Hà", "Trần T. T. H."),
        ("Lan", "L."),
        (None, None),
        ("  đặng   văn  đức ", "đặng V. Đ."),
    ],
)
def test_mask_name(name: str | None, masked: str | None) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("0912 345 678", "09******78"),
        ("+84 912.345.678", "84*******78"),
        ("0912345678", "09******78"),
        (None, None),
    ],
)
def test_mask_phone(phone: str | None, masked: str | None) -> None:
    assert mask_phone(phone) == masked


def test_scrub_text_removes_phones_and_the_reporter_name() -> None:
    text = "Tôi là Nguyễn Văn An, gọi 0912.345.678 hoặc +84 912 345 678; ngõ 12, số nhà 45, 2 xe"
    out = scrub_text(text, "Nguyễn Văn An", "0912345678")
    assert "Nguyễn Văn An" not in out and "0912" not in out and "912 345" not in out
    assert "ngõ 12" in out and "2 xe" in out  # alleys and counts stay …
    assert "45" not in out and "số nhà [số nhà]" in out  # … house numbers go


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("Rác đổ trước nhà chị Lan, số nhà 12A ngõ 5 Lạch Tray", ["Lan", "12A"], ["ngõ 5", "Lạch Tray"]),
        ("tôi là trần thị bình, nhà bên cạnh", ["trần", "bình"], ["nhà bên cạnh"]),
        ("Ông Nguyễn Văn Hùng đổ phế thải", ["Nguyễn", "Hùng"], ["đổ phế thải"]),
        ("liên hệ an.nguyen+ioc@gmail.com hoặc 0912345678", ["an.nguyen", "gmail", "0912"], ["liên hệ"]),
        ("CCCD 031090001234, xe 15A-123.45 đỗ trên vỉa hè", ["031090001234", "15A-123.45"], ["vỉa hè"]),
        ("Xe 29LD 12345 chắn lối đi", ["29LD", "12345"], ["chắn lối đi"]),
    ],
)
def test_scrub_text_removes_third_parties_emails_ids_plates_and_house_numbers(
    text: str, gone: list[str], kept: list[str]
) -> None:
    out = scrub_text(text)
    for g in gone:
        assert g not in out, (g, out)
    for k in kept:
        assert k in out, (k, out)


def test_public_point_media_and_text() -> None:
    from ioc.tickets.privacy import PUBLIC_TEXT_MAX, public_media, public_point, public_text

    lat, lon = public_point(20.856_234, 106.682_987)
    assert (lat, lon) == (20.856, 106.683)
    assert public_media(["javascript:alert(1)", "http://x.vn/a.jpg", "https://u:p@x.vn/a.jpg", "data:image/gif;base64,AA",
                         "https://anh.haiphong.gov.vn/a.jpg", "https://x.vn/a b.jpg"]) == [
        "https://anh.haiphong.gov.vn/a.jpg"]  # fmt: skip
    long = public_text("Ngập sâu. " * 100_000)
    assert len(long) == PUBLIC_TEXT_MAX and long.endswith("…")
    assert "\x00" not in public_text("Ngập\x00 sâu")


@pytest.fixture
def conn(pg_dsn: str) -> psycopg.Connection:
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        yield c


def _assign(conn: psycopg.Connection, i: int, unit: str) -> None:
    store.create_ticket(conn, new(i, admin_unit=unit), "intake")
    store.apply_change(conn, f"HP-{i}", Change(Kind.CLASSIFIED, at(1), "lan", category="urban_order"))
    store.apply_change(
        conn,
        f"HP-{i}",
        Change(
            Kind.ASSIGNED,
            at(2),
            "lan",
            owner_kind="ward_committee",
            owner_code=f"ubnd:{unit}",
            owner_name=f"UBND {unit}",
        ),
    )


@pytest.mark.integration
def test_ward_user_sees_only_own_ward_and_masked(conn: psycopg.Connection) -> None:
    _assign(conn, 1, "Phường Lê Chân")
    _assign(conn, 2, "Phường Ngô Quyền")
    add_user(conn, "lechan", PASSWORD, "ward")
    store.add_scope(conn, "lechan", "ward", "Phường Lê Chân", actor="admin")
    ward = store.viewer_for(conn, "lechan", "ward")
    assert ward.scopes == (Scope("ward", "Phường Lê Chân"),) and ward.scoped
    assert [r.ticket_id for r in store.queue(conn, ward, QueueFilter(statuses=None), at(0))] == ["HP-1"]
    other = store.require_ticket(conn, "HP-2")
    with pytest.raises(PermissionError, match="'lechan'.*'HP-2'"):
        reporter_view(conn, ward, other)
    own = reporter_view(conn, ward, store.require_ticket(conn, "HP-1"))
    assert own.masked and own.name == "Trần T. B." and own.phone == "09******78"
    assert "0912" not in visible_text(ward, store.require_ticket(conn, "HP-1"))
    with pytest.raises(ValueError, match="'district'"):
        store.add_scope(conn, "lechan", "district", "x", actor="admin")
    with pytest.raises(LookupError, match="'ghost'"):
        store.add_scope(conn, "ghost", "ward", "x", actor="admin")


@pytest.mark.integration
def test_only_triage_staff_see_personal_data_and_each_view_is_audited(conn: psycopg.Connection) -> None:
    store.create_ticket(conn, new(1), "intake")
    row = store.require_ticket(conn, "HP-1")
    for role in ("leader", "operator", "admin", "standing_office"):
        view = reporter_view(conn, Viewer("someone", role), row)
        assert view.masked and view.phone == "09******78"
    for role in ("display", "finance"):  # no business with tickets at all
        with pytest.raises(PermissionError):
            reporter_view(conn, Viewer("someone", role), row)
    assert (
        conn.execute("SELECT count(*) FROM audit_log WHERE action = 'ticket.reporter_viewed'").fetchone()[0]
        == 0
    )
    staff = reporter_view(conn, Viewer("lan", "triage"), row)
    assert not staff.masked and staff.phone == "0912345678" and staff.name == "Trần Thị Bình"
    actor, target, details = conn.execute(
        "SELECT actor, target, details FROM audit_log WHERE action = 'ticket.reporter_viewed'"
    ).fetchone()
    assert (actor, target, details) == ("lan", "HP-1", {"fields": ["name", "phone"]})
    # A scope always limits, whatever the role: scoped triage staff see masked data.
    assert Viewer("lan", "triage", (Scope("agency", "x"),)).scoped
    assert not Viewer("lan", "triage", (Scope("agency", "x"),)).is_triage
    assert "0912345678" not in repr(row) and "Trần Thị Bình" not in repr(row)  # never in logs via repr
