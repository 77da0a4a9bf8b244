"""The role matrix (issue 11, item 2): every role × every page, every callback (enumerated from
``/_dash-dependencies``, not a hand list), every route (from the url maps) and export, asserting
allow or deny at the server, plus cross-scope attempts made by crafting callback payloads.

The app is built once for the module and driven through the Flask test client (no browser).
A callback or route added without an entry in ``ioc.access`` fails ``test_every_callback_…`` /
``test_every_route_…`` by name, and is refused by the server meanwhile (default deny).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from flask.testing import FlaskClient
from psycopg import sql
from pydantic import SecretStr

from alerts.model import AlertClass, AlertUpdate, Severity, UpdateKind, load_agencies
from alerts.store import apply_rule_update, get_alert
from ioc import accounts
from ioc.access import CALLBACKS, EXPORTS, PAGE_ROUTER, PAGES, ROUTES, Principal, Resource, Role, decide
from ioc.launcher import Stack
from ioc.tickets import store
from ioc.tickets.workflow import Change, Kind
from ioc.web import ids
from ioc.web.app import create_app, server_callbacks
from ioc.web.open311 import PREFIX
from ioc.web.pages import alerts_ids as aid
from ioc.web.pages import triage_ids as tid
from ioc.web.snapshot import LiveSnapshot
from tests.test_tickets_store import new
from tests.webclient import PASSWORD, login, post_callback

pytestmark = pytest.mark.integration

WARD_A, WARD_B = "Phường Lê Chân", "Phường Ngô Quyền"
SCOPED = {  # username → (role, sectors, units)
    "phuong_a": (Role.WARD, (), (WARD_A,)),
    "phuong_b": (Role.WARD, (), (WARD_B,)),
    "so_xd": (Role.DEPARTMENT, ("xay_dung",), ()),
    "vanhanh_a": (Role.OPERATOR, (), (WARD_A,)),  # the finding: a ward-scoped operator
}


@dataclass
class World:
    app: Any
    dsn: str
    clients: dict[str, FlaskClient]  # username (a role's value for city-wide users) → logged-in client
    principals: dict[str, Principal]
    deps: list[dict[str, Any]]
    alert_a: str
    alert_b: str


@pytest.fixture(scope="module")
def world(services: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    name = f"acl_{uuid.uuid4().hex[:12]}"
    admin_dsn = services.settings.database_dsn()
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    settings = services.settings.model_copy(update={
        "database_url": SecretStr(admin_dsn.rsplit("/", 1)[0] + "/" + name),
        "data_dir": tmp_path_factory.mktemp("acl"), "topic_prefix": f"{name}.",
    })  # fmt: skip
    st = Stack(settings)
    st.start_services()
    st.prepare()
    dsn = settings.database_dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM users")
        for role in Role:
            accounts.add_user(conn, role.value.replace("_", "-"), PASSWORD, role.value)
            if role in (Role.WARD, Role.DEPARTMENT):  # the city-wide account of a scoped role: given a scope
                accounts.set_scope(conn, role.value.replace("_", "-"), ("xay_dung",) if role is Role.DEPARTMENT
                                   else (), (WARD_A,) if role is Role.WARD else (), actor="test")  # fmt: skip
        for user, (role, sectors, units) in SCOPED.items():
            accounts.add_user(conn, user, PASSWORD, role.value)
            accounts.set_scope(conn, user, sectors, units, actor="test")
        for i, unit in ((1, WARD_A), (2, WARD_B)):
            store.create_ticket(conn, new(i, admin_unit=unit), "intake")
            store.apply_change(conn, f"HP-{i}", Change(Kind.CLASSIFIED, datetime.now(UTC), "an", category="urban_order"))
            store.apply_change(conn, f"HP-{i}", Change(Kind.ASSIGNED, datetime.now(UTC), "an", owner_kind="ward_committee",
                                                        owner_code=f"ubnd:{unit}"))  # fmt: skip
        alerts = {}
        for unit in (WARD_A, WARD_B):
            alerts[unit] = str(apply_rule_update(conn, AlertUpdate(
                kind=UpdateKind.RAISE, key=f"citizen-burst:{unit}", rule_id="citizen-burst",
                alert_class=AlertClass.CITIZEN, severity=Severity.MODERATE, at=datetime.now(UTC), admin_unit=unit,
                title_vi=f"Phản ánh tăng tại {unit}", title_en=f"Reports up in {unit}",
            ), load_agencies()).alert_id)  # fmt: skip
        principals = {u: p for u in [r.value.replace("_", "-") for r in Role] + list(SCOPED)
                      if (p := accounts.principal_for(conn, u)) is not None}  # fmt: skip
    app = create_app(settings, live_snapshot=LiveSnapshot(settings), start=False)
    clients: dict[str, FlaskClient] = {}
    for user in principals:
        c = app.server.test_client()
        r = login(c, user, next_path="/wall" if user == "display" else "/")
        assert r.status_code == 303, (user, r.status_code)
        clients[user] = c
    deps = json.loads(clients["admin"].get("/_dash-dependencies").get_data())
    try:
        yield World(app, dsn, clients, principals, deps, alerts[WARD_A], alerts[WARD_B])
    finally:
        app.server.extensions["ioc"]["pool"].close()
        st.stop()
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- building callback requests from /_dash-dependencies -----------------------------------------


def _parts(spec: str) -> list[tuple[Any, str]]:
    """``"..a.children...b.data.."`` or ``"a.children"`` → ``[(id, property), …]`` (ids may be JSON)."""
    items = spec[2:-2].split("...") if spec.startswith("..") else [spec]
    out = []
    for item in items:
        ident, prop = item.rsplit(".", 1)
        out.append((json.loads(ident) if ident.startswith("{") else ident, prop))
    return out


def _wild(ident: Any) -> bool:
    return isinstance(ident, dict) and any(isinstance(v, list) for v in ident.values())


def _concrete(ident: dict[str, Any]) -> list[Any]:
    """The components a wildcard output matches on its page, as the browser would list them."""
    from ioc.web.pages.wall import WALL_LAYERS

    kind = ident.get("type")
    if kind == "ioc-layer":
        return [ids.layer(ident["page"], lid) for lid in WALL_LAYERS]
    if kind == "wall-panel-body":
        return [ids.wall_panel_body(n) for n in ids.WALL_PANELS]
    if kind == "wall-updated":
        return [ids.wall_updated(n) for n in ids.WALL_PANELS]
    return []


def body_for(dep: dict[str, Any], values: dict[str, Any] | None = None) -> dict[str, Any]:
    """A request as dash-renderer would send it for ``dep``; wildcard ids match nothing."""
    values = values or {}

    def item(d: dict[str, Any]) -> Any:
        if _wild(d["id"]):
            return []
        key = f"{d['id']}.{d['property']}"
        return {"id": d["id"], "property": d["property"], "value": values.get(key)}

    outs = [[{"id": c, "property": p} for c in _concrete(i)] if _wild(i) else {"id": i, "property": p}
            for i, p in _parts(dep["output"])]  # fmt: skip
    return {
        "output": dep["output"],
        "outputs": outs if dep["output"].startswith("..") else outs[0],
        "inputs": [item(d) for d in dep["inputs"]],
        "state": [item(d) for d in dep["state"]],
        "changedPropIds": [f"{d['id']}.{d['property']}" for d in dep["inputs"][:1] if not _wild(d["id"])],
    }


def text_of(r: Any) -> str:
    """A callback's answer as readable text (Dash escapes non-ASCII in its JSON)."""
    return json.dumps(r.get_json(), ensure_ascii=False) if r.status_code == 200 else ""


def server_deps(w: World) -> list[tuple[str, dict[str, Any]]]:
    names = server_callbacks(w.app)
    return [(names[d["output"]], d) for d in w.deps if not d.get("clientside_function")]


def dep_named(w: World, name: str) -> dict[str, Any]:
    (d,) = [d for n, d in server_deps(w) if n == name]
    return d


# --- coverage: nothing without a policy entry ----------------------------------------------------


def test_every_callback_has_a_policy_entry(world: World) -> None:
    names = [n for n, _ in server_deps(world)]
    missing = sorted(n for n in names if n not in CALLBACKS and n != PAGE_ROUTER)
    assert missing == [], f"callbacks without a policy entry in ioc.access.CALLBACKS: {missing}"
    stale = sorted(set(CALLBACKS) - set(names))
    assert stale == [], f"policy entries for callbacks that do not exist: {stale}"
    assert PAGE_ROUTER in names and len(names) >= 18


def test_every_route_has_a_policy_entry(world: World) -> None:
    def routes(url_map: Any) -> set[str]:
        return {f"{m} {r.rule}" for r in url_map.iter_rules() for m in r.methods - {"HEAD", "OPTIONS"}}

    found = routes(world.app.server.url_map) | routes(world.app.server.extensions["ioc_open311"].url_map)
    missing = sorted(found - set(ROUTES))
    assert missing == [], f"routes without a policy entry in ioc.access.ROUTES: {missing}"
    assert sorted(set(ROUTES) - found) == [], "policy entries for routes that do not exist"


def test_an_unlisted_callback_is_refused_by_default(world: World) -> None:
    def sneaky(_n: Any) -> str:
        return "secret"

    key = "sneaky-output.children"
    world.app.callback_map[key] = {**world.app.callback_map[next(iter(world.app.callback_map))], "callback": sneaky}
    try:
        body = {"output": key, "outputs": {"id": "sneaky-output", "property": "children"}, "inputs": [], "state": []}
        r = post_callback(world.clients["admin"], body)
        assert r.status_code == 403 and "no policy for callback" in r.get_data(as_text=True)
    finally:
        del world.app.callback_map[key]
    r = post_callback(world.clients["admin"], {"output": "no-such.children", "inputs": []})
    assert r.status_code == 403 and "unknown callback" in r.get_data(as_text=True)


def test_clientside_callbacks_cannot_be_posted(world: World) -> None:
    client_deps = [d for d in world.deps if d.get("clientside_function")]
    assert len(client_deps) >= 3
    for d in client_deps:
        assert post_callback(world.clients["admin"], body_for(d)).status_code == 403


# --- the matrix ---------------------------------------------------------------------------------


def test_role_matrix_pages(world: World) -> None:
    router = next(d for n, d in server_deps(world) if n == PAGE_ROUTER)
    anon = world.app.server.test_client()
    checked = 0
    for path in PAGES:
        if path == "/transparency":
            assert anon.get(path).status_code == 200
            continue
        r = anon.get(path)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login"), path
        for user, client in world.clients.items():
            allowed = decide(world.principals[user], Resource.page(path)).allowed
            r = client.get(path)
            assert (r.status_code == 200) is allowed, (user, path, r.status_code)
            body = body_for(router, {"_pages_location.pathname": path, "_pages_location.search": ""})
            r = post_callback(client, body)
            assert (r.status_code == 200) is allowed and (r.status_code == 403) is not allowed, (user, path)
            checked += 2
    assert checked >= 2 * len(world.clients) * (len(PAGES) - 1)


def test_role_matrix_callbacks(world: World) -> None:
    cells = 0
    anon = world.app.server.test_client()
    for name, dep in server_deps(world):
        if name == PAGE_ROUTER:
            continue
        assert anon.post("/_dash-update-component", json=body_for(dep)).status_code == 401, name
        for user, client in world.clients.items():
            allowed = decide(world.principals[user], Resource.callback(name)).allowed
            r = post_callback(client, body_for(dep))
            if allowed:
                assert r.status_code in (200, 204), (user, name, r.status_code, r.get_data(as_text=True)[:300])
            else:
                assert r.status_code == 403, (user, name, r.status_code)
            cells += 1
    assert cells == len(world.clients) * (len(server_deps(world)) - 1)


def _route_examples() -> dict[str, str]:
    """A concrete path for each GET route of the dashboard and the API."""
    return {
        "GET /login": "/login", "GET /login/totp": "/login/totp", "GET /lang/<code>": "/lang/en",
        "GET /healthz": "/healthz", "GET /transparency": "/transparency", "GET /assets/<path:filename>": "/assets/10_ioc.css",
        "GET /_favicon.ico": "/_favicon.ico", "GET /_reload-hash": "/_reload-hash", "GET /_dash-layout": "/_dash-layout",
        "GET /_dash-dependencies": "/_dash-dependencies", "GET /layers/<digest>.json": "/layers/0.json",
        "GET /": "/", "GET /<path:path>": "/no-such-page", "GET /account/password": "/account/password",
        "GET /services.<fmt>": PREFIX + "/services.json", "GET /services/<code>.<fmt>": PREFIX + "/services/traffic.json",
        "GET /requests.<fmt>": PREFIX + "/requests.json", "GET /requests/<request_id>.<fmt>": PREFIX + "/requests/HP-1.json",
    }  # fmt: skip


def test_role_matrix_routes(world: World) -> None:
    examples = _route_examples()
    anon = world.app.server.test_client()
    for route, path in examples.items():
        allowed = decide(None, Resource.route(*route.split(" ", 1))).allowed
        r = anon.get(path)
        assert (r.status_code not in (302, 401, 403)) is allowed or route in ("GET /login/totp",), (route, r.status_code)
        for user, client in world.clients.items():
            p = world.principals[user]
            allowed = decide(p, Resource.route(*route.split(" ", 1))).allowed
            if path in PAGES and path != "/transparency":  # a Dash page: its page entry decides too
                allowed = allowed and decide(p, Resource.page(path)).allowed
            r = client.get(path)
            refused = r.status_code in (401, 403, 302)  # 302: sent to the login or to the user's home page
            if route == "GET /login/totp":  # only meaningful during a login: sends a full session away
                continue
            assert refused is not allowed, (user, route, r.status_code)
    # Unpublished HP-1 is not public: the API answers 404 to everyone without a key.
    assert anon.get(PREFIX + "/requests/HP-1.json").status_code == 404


def test_exports_by_role(world: World) -> None:
    csv = dep_named(world, "ioc.web.pages.triage.download_csv")
    cap = dep_named(world, "ioc.web.pages.alerts.download_cap")
    for user, client in world.clients.items():
        p = world.principals[user]
        body = body_for(csv, {f"{tid.TRIAGE_CSV}.n_clicks": 1, f"{tid.TRIAGE_STATS_BY}.value": "category"})
        r = post_callback(client, body)
        ok = decide(p, Resource.export("tickets.stats_csv")).allowed and decide(p, Resource.page("/triage")).allowed
        assert (r.status_code == 200 and "phan-anh-category.csv" in text_of(r)) is ok, (user, r.status_code)
        body = body_for(cap, {f"{aid.CAP}.n_clicks": 1, f"{aid.SELECTED}.data": world.alert_a})
        r = post_callback(client, body)
        in_scope = not p.scoped or WARD_A in p.scope.units
        ok = decide(p, Resource.export("alert.cap")).allowed and decide(p, Resource.page("/alerts")).allowed
        assert (r.status_code == 200 and "cap-" in text_of(r)) is (ok and in_scope), (user, r.status_code)
    assert set(EXPORTS) >= {"tickets.stats_csv", "alert.cap"}


# --- cross-scope attempts: ward A crafting payloads for ward B ------------------------------------


def test_ward_a_cannot_read_or_act_on_ward_b_by_crafting_payloads(world: World) -> None:
    a = world.clients["phuong_a"]
    detail = dep_named(world, "ioc.web.pages.triage.show_detail")
    r = post_callback(a, body_for(detail, {f"{tid.TRIAGE_SELECTED}.data": "HP-2"}))
    assert r.status_code == 200 and "0912" not in text_of(r) and "Phản ánh số 2" not in text_of(r)
    r = post_callback(a, body_for(detail, {f"{tid.TRIAGE_SELECTED}.data": "HP-1"}))
    assert "Phản ánh số 1" in text_of(r)  # its own ward's ticket: yes
    act = dep_named(world, "ioc.web.pages.triage.act")
    values = {f"{tid.TRIAGE_START}.n_clicks": 1, f"{tid.TRIAGE_SELECTED}.data": "HP-2"}
    body = body_for(act, values)
    body["changedPropIds"] = [f"{tid.TRIAGE_START}.n_clicks"]
    r = post_callback(a, body)
    from ioc.tickets.i18n import t as tt

    assert any(tt("action.forbidden", lg) in text_of(r) for lg in ("vi", "en")), text_of(r)[:300]
    with psycopg.connect(world.dsn) as conn:
        assert store.require_ticket(conn, "HP-2").status == "assigned"  # unchanged
    queue = dep_named(world, "ioc.web.pages.triage.refresh_queue")
    text = text_of(post_callback(a, body_for(queue, {f"{tid.TRIAGE_FILTER_UNIT}.value": [WARD_B]})))
    assert "HP-2" not in text
    adetail = dep_named(world, "ioc.web.pages.alerts.detail")
    r = post_callback(a, body_for(adetail, {f"{aid.SELECTED}.data": world.alert_b}))
    assert r.status_code == 200 and WARD_B not in text_of(r)
    r = post_callback(a, body_for(adetail, {f"{aid.SELECTED}.data": world.alert_a}))
    assert WARD_A in text_of(r)
    table = dep_named(world, "ioc.web.pages.alerts.refresh_table")
    text = text_of(post_callback(a, body_for(table, {f"{aid.FILTER_STATE}.value": ["new"]})))
    assert WARD_A in text and WARD_B not in text


def test_a_ward_scoped_operator_cannot_acknowledge_another_wards_alert(world: World) -> None:
    op = world.clients["vanhanh_a"]
    action = dep_named(world, "ioc.web.pages.alerts.on_action")

    def ack(alert_id: str) -> str:
        body = body_for(action, {f"{aid.ACK}.n_clicks": 1, f"{aid.SELECTED}.data": alert_id,
                                 f"{aid.COMMENT}.value": "đã nắm"})  # fmt: skip
        body["changedPropIds"] = [f"{aid.ACK}.n_clicks"]
        return text_of(post_callback(op, body))

    shown = ack(world.alert_b)  # a clear message in the session's language; the detail goes to the log
    assert "Bạn không có quyền thực hiện thao tác này." in shown or "You may not do this." in shown
    with psycopg.connect(world.dsn) as conn:
        assert get_alert(conn, uuid.UUID(world.alert_b)).state.value == "new"  # type: ignore[union-attr]
    ack(world.alert_a)
    with psycopg.connect(world.dsn) as conn:
        assert get_alert(conn, uuid.UUID(world.alert_a)).state.value == "acknowledged"  # type: ignore[union-attr]


def test_the_wall_account_reads_no_alerts_tickets_or_cap(world: World) -> None:
    wall = world.clients["display"]
    for name in ("ioc.web.pages.alerts.refresh_table", "ioc.web.pages.alerts.detail", "ioc.web.pages.alerts.download_cap",
                 "ioc.web.pages.triage.refresh_queue", "ioc.web.pages.triage.show_detail"):  # fmt: skip
        r = post_callback(wall, body_for(dep_named(world, name), {f"{aid.SELECTED}.data": world.alert_a}))
        assert r.status_code == 403, name
    router = dep_named(world, PAGE_ROUTER)
    r = post_callback(wall, body_for(router, {"_pages_location.pathname": "/transparency"}))
    assert r.status_code == 200  # /transparency is public anyway (and a plain page, not Dash)


def test_map_layers_are_scoped_for_ward_users(world: World) -> None:
    from ioc.state import CityState, ReportRow
    from ioc.web.scoping import scoped_snapshot
    from ioc.web.snapshot import Snapshot

    snap = world.app.server.extensions["ioc"]["live"].current
    rows = tuple(ReportRow(f"R{i}", datetime.now(UTC), datetime.now(UTC), "created", None, "app", 106.68, 20.85, unit)
                 for i, unit in enumerate((WARD_A, WARD_B)))  # fmt: skip
    live = CityState(asof=datetime.now(UTC), sources={}, boundaries=snap.live.boundaries, reports=rows)
    s = Snapshot(version=1, refreshed_at=datetime.now(UTC), live=live)
    mine = scoped_snapshot(s, world.principals["phuong_a"])
    assert [r.admin_unit for r in mine.live.reports] == [WARD_A]
    assert scoped_snapshot(s, world.principals["leader"]) is s
    assert scoped_snapshot(s, world.principals["phuong_a"]) is mine  # cached per (snapshot, scope)
    assert ids.MAP  # the page's ids come from the ids module
