"""Who may see and do what: the roles, the scopes and ONE policy function, :func:`decide`.

Every page, Dash callback, HTTP route, export and action on an object (ticket, alert, user, a
source's data) asks :func:`decide` at the server; the web app's request hook calls it before Dash
runs a callback, and the callbacks call it again for the objects they read. Anything the tables
below do not name is denied (default deny); ``tests/test_access_matrix.py`` fails when a callback
or route exists without an entry here.

A :class:`Scope` is part of the user: the sectors (departments) and administrative units they
serve. Empty means city-wide, which only the city roles get; a department or ward user with an
empty scope sees nothing scoped.
No web imports here: the CLI, the ticket desk and the web app share it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ioc.sources.spec import DataClass


class Role(StrEnum):
    """The roles of the city's IOC (values are stored in ``users.role``)."""

    LEADER = "leader"
    STANDING_OFFICE = "standing_office"
    DEPARTMENT = "department"
    WARD = "ward"
    OPERATOR = "operator"
    TRIAGE = "triage"
    FINANCE = "finance"
    PUBLIC_ORDER = "public_order"
    DISPLAY = "display"  # the video wall's account: /wall only
    ADMIN = "admin"

    def name_in(self, lang: str = "vi") -> str:
        vi, en = ROLE_NAMES[self]
        return vi if lang == "vi" else en


ROLE_NAMES: Mapping[Role, tuple[str, str]] = {
    Role.LEADER: ("Lãnh đạo thành phố", "City leader"),
    Role.STANDING_OFFICE: ("Cơ quan thường trực Ban Chỉ đạo", "Steering committee standing office"),
    Role.DEPARTMENT: ("Sở, ban, ngành", "Department"),
    Role.WARD: ("UBND xã, phường, đặc khu", "Commune, ward or special zone"),
    Role.OPERATOR: ("Cán bộ vận hành IOC", "IOC operator"),
    Role.TRIAGE: ("Cán bộ tiếp nhận, phân loại phản ánh", "Report triage staff"),
    Role.FINANCE: ("Tài chính – ngân sách", "Finance (budget)"),
    Role.PUBLIC_ORDER: ("Đầu mối an ninh, trật tự", "Public-order liaison"),
    Role.DISPLAY: ("Màn hình tường điều hành", "Video wall display"),
    Role.ADMIN: ("Quản trị hệ thống", "System administrator"),
}

SCOPED_ROLES = frozenset({Role.DEPARTMENT, Role.WARD})  # never city-wide
"""Roles whose scope must name sectors (department) or units (ward); empty means nothing."""

# Agency codes differ between the alert catalogue (alerts/agencies.yaml) and the ticket routing
# table (ioc/tickets/routing.yaml); a sector is the department, whichever file names it.
SECTORS: Mapping[str, tuple[str, str, frozenset[str]]] = {
    "xay_dung": ("Sở Xây dựng", "Department of Construction", frozenset({"so_xay_dung", "SXD"})),
    "nn_mt": ("Sở Nông nghiệp và Môi trường", "Department of Agriculture and Environment",
              frozenset({"so_nn_mt", "SNNMT"})),
    "cong_an": ("Công an thành phố", "City Police", frozenset({"cong_an_tp", "CATP"})),
    "khcn": ("Sở Khoa học và Công nghệ", "Department of Science and Technology", frozenset({"SKHCN-IOC"})),
}  # fmt: skip


def sector_codes(sector_or_code: str) -> frozenset[str]:
    """Every agency code a sector (or one of its codes) stands for, itself included."""
    for key, (_, _, codes) in SECTORS.items():
        if sector_or_code == key or sector_or_code in codes:
            return codes | {key}
    return frozenset({sector_or_code})


@dataclass(frozen=True, slots=True)
class Scope:
    """Sectors (departments, with their agency codes) and admin units (codes and names) a user serves."""

    sectors: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()

    @classmethod
    def of(cls, sectors: Iterable[str] = (), units: Iterable[str] = ()) -> Scope:
        """A scope with every alias of its sectors (``units`` are taken as given: codes and/or names)."""
        codes: set[str] = set()
        for s in sectors:
            codes |= sector_codes(s)
        return cls(frozenset(codes), frozenset(" ".join(u.split()) for u in units if u.strip()))

    @property
    def city_wide(self) -> bool:
        return not self.sectors and not self.units

    @property
    def ward_owner_codes(self) -> frozenset[str]:
        """The ``tickets.owner_code`` of the units' People's Committees (``ubnd:<unit name>``)."""
        return frozenset("ubnd:" + u for u in self.units)

    def covers(self, admin_unit: str | None, sector: str | None = None, owner: str | None = None) -> bool:
        """True when an object in ``admin_unit``, of ``sector`` or owned by ``owner`` is in this scope."""
        if self.city_wide:
            return True
        if admin_unit is not None and " ".join(admin_unit.split()) in self.units:
            return True
        if sector is not None and sector in self.sectors:
            return True
        return owner is not None and (owner in self.sectors or owner in self.ward_owner_codes)

    def owns(self, owner: str | None) -> bool:
        """True when ``owner`` (an agency code or ``ubnd:<unit>``) is one of this scope's own offices."""
        if self.city_wide:
            return True
        return owner is not None and (owner in self.sectors or owner in self.ward_owner_codes)


CITY_WIDE = Scope()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a logged-in user (or an API key) with a role and a scope."""

    username: str
    role: Role
    scope: Scope = CITY_WIDE

    @property
    def scoped(self) -> bool:
        """Department and ward users, and any user given a scope: limited to it."""
        return self.role in SCOPED_ROLES or not self.scope.city_wide


class Kind(StrEnum):
    PAGE = "page"
    CALLBACK = "callback"
    ROUTE = "route"
    EXPORT = "export"
    OBJECT = "object"  # a ticket, alert, directive or user
    DATA = "data"  # a source's data, by data class


class Action(StrEnum):
    VIEW = "view"
    ACT = "act"  # change an object's state (acknowledge, assign, answer …)
    CREATE = "create"
    EXPORT = "export"
    READ_PERSONAL = "read_personal"  # see a citizen's name and phone unmasked
    ADMIN = "admin"  # manage accounts


@dataclass(frozen=True, slots=True)
class Resource:
    """What is asked for. ``name``: a page path, callback id, route (``METHOD rule``), export name or
    object type (``ticket``, ``alert``, ``directive``, ``user``); objects carry where they are."""

    kind: Kind
    name: str
    admin_unit: str | None = None
    sector: str | None = None
    owner: str | None = None
    data_class: DataClass = DataClass.INTERNAL

    @classmethod
    def page(cls, path: str) -> Resource:
        return cls(Kind.PAGE, path)

    @classmethod
    def callback(cls, name: str) -> Resource:
        return cls(Kind.CALLBACK, name)

    @classmethod
    def route(cls, method: str, rule: str) -> Resource:
        return cls(Kind.ROUTE, f"{method.upper()} {rule}")

    @classmethod
    def export(cls, name: str) -> Resource:
        return cls(Kind.EXPORT, name)

    @classmethod
    def obj(cls, kind: str, *, admin_unit: str | None = None, sector: str | None = None,
            owner: str | None = None, data_class: DataClass = DataClass.INTERNAL) -> Resource:  # fmt: skip
        return cls(Kind.OBJECT, kind, admin_unit, sector, owner, data_class)

    @classmethod
    def data(cls, data_class: DataClass) -> Resource:
        return cls(Kind.DATA, data_class.value, data_class=data_class)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str = field(default="")

    def __bool__(self) -> bool:
        return self.allowed


# --- the policy tables ----------------------------------------------------------------------------

R = Role
ANYONE = "anyone"  # including anonymous clients
LOGGED_IN = "logged_in"  # any principal
Who = frozenset[Role] | str

_DESK = frozenset({R.LEADER, R.STANDING_OFFICE, R.DEPARTMENT, R.WARD, R.OPERATOR, R.TRIAGE, R.ADMIN})
_MAPS = frozenset(set(Role) - {R.DISPLAY})

PAGES: Mapping[str, Who] = {
    "/": _MAPS,
    "/tablet": _MAPS,
    "/wall": frozenset({R.LEADER, R.STANDING_OFFICE, R.OPERATOR, R.FINANCE, R.PUBLIC_ORDER, R.DISPLAY, R.ADMIN}),
    "/alerts": frozenset(_DESK | {R.PUBLIC_ORDER}),
    "/triage": _DESK,
    "/transparency": ANYONE,  # published, de-identified reports (a plain HTML page, not Dash)
    "/admin/users": frozenset({R.ADMIN}),
    # Directives (ioc/directives): the leader's board, new directives, the recipients' inbox, the
    # task tracker, public warnings to the loudspeakers. Data inside is scoped by recipient.
    "/directives": frozenset({R.LEADER, R.STANDING_OFFICE, R.ADMIN, R.OPERATOR}),  # operator: read only
    "/directives/new": frozenset({R.LEADER, R.STANDING_OFFICE, R.ADMIN}),
    "/inbox": frozenset({R.WARD, R.DEPARTMENT, R.OPERATOR, R.LEADER, R.STANDING_OFFICE, R.ADMIN, R.PUBLIC_ORDER,
                         R.FINANCE}),
    "/tasks": frozenset({R.LEADER, R.STANDING_OFFICE, R.ADMIN, R.OPERATOR, R.DEPARTMENT, R.FINANCE}),
    "/warnings": frozenset({R.OPERATOR, R.LEADER, R.ADMIN}),
    # The early-warning panels: budget and public order are restricted data (leaders and the named
    # roles only); floods are public data for every staff role; the SOC summary is internal.
    "/budget": frozenset({R.LEADER, R.FINANCE}),
    "/public-order": frozenset({R.LEADER, R.PUBLIC_ORDER}),  # a scoped user sees only its units
    "/floods": frozenset({R.LEADER, R.STANDING_OFFICE, R.DEPARTMENT, R.WARD, R.OPERATOR, R.TRIAGE, R.ADMIN}),
    "/soc": frozenset({R.LEADER, R.STANDING_OFFICE, R.OPERATOR, R.ADMIN}),
    # The leaders' cockpit (issue 12): city-wide public-service KPIs, rankings, a unit's late dossiers.
    "/leader": frozenset({R.LEADER, R.STANDING_OFFICE, R.ADMIN}),
    "/leader/ranking": frozenset({R.LEADER, R.STANDING_OFFICE, R.ADMIN}),
    "/leader/unit": frozenset({R.LEADER, R.STANDING_OFFICE, R.ADMIN}),
    # KPI figures by hand (issue 12): indicators with no live feed, entered and audited by administrators.
    "/admin/figures": frozenset({R.ADMIN}),
    # KPI trends (issue 12, item 4): the 766 indicators over time, from the same snapshot part.
    "/leader/kpi": frozenset({R.LEADER, R.STANDING_OFFICE, R.ADMIN}),
}
"""Pages and the roles that may open them."""

# Dash callbacks by ``module.function`` of the Python function (see ioc.web.app.callback_name).
# A callback inherits its page's rule: a role that may not open a page may not call its callbacks.
CALLBACKS: Mapping[str, str] = {
    "ioc.web.pages.map.refresh": "/",
    "ioc.web.pages.tablet.refresh": "/tablet",
    "ioc.web.pages.wall.refresh": "/wall",
    "ioc.web.pages.alerts.refresh_table": "/alerts",
    "ioc.web.pages.alerts.pick": "/alerts",
    "ioc.web.pages.alerts.detail": "/alerts",
    "ioc.web.pages.alerts.on_action": "/alerts",
    "ioc.web.pages.alerts.download_cap": "/alerts",
    "ioc.web.pages.triage.refresh_queue": "/triage",
    "ioc.web.pages.triage.select_row": "/triage",
    "ioc.web.pages.triage.show_detail": "/triage",
    "ioc.web.pages.triage.act": "/triage",
    "ioc.web.pages.triage.refresh_stats": "/triage",
    "ioc.web.pages.triage.download_csv": "/triage",
    "ioc.web.pages.admin_users.refresh_users": "/admin/users",
    "ioc.web.pages.admin_users.pick_user": "/admin/users",
    "ioc.web.pages.admin_users.save_user": "/admin/users",
    "ioc.web.pages.directives.refresh": "/directives",
    "ioc.web.pages.directives.pick": "/directives",
    "ioc.web.pages.directives.detail": "/directives",
    "ioc.web.pages.directives.download": "/directives",
    "ioc.web.pages.directives.create": "/directives/new",
    "ioc.web.pages.directives.lead_action": "/directives/new",  # accept, send back, extensions: leader roles
    "ioc.web.pages.inbox.refresh": "/inbox",
    "ioc.web.pages.inbox.pick": "/inbox",
    "ioc.web.pages.inbox.detail": "/inbox",
    "ioc.web.pages.inbox.on_action": "/inbox",
    "ioc.web.pages.inbox.upload": "/inbox",
    "ioc.web.pages.tasks.refresh": "/tasks",
    "ioc.web.pages.tasks.import_xlsx": "/tasks",  # and the import itself needs standing_office/leader/admin
    "ioc.web.pages.warnings_public.listing": "/warnings",
    "ioc.web.pages.warnings_public.act": "/warnings",
    "ioc.web.pages.budget.refresh": "/budget",
    "ioc.web.pages.budget.yoy": "/budget",
    "ioc.web.pages.public_order.refresh": "/public-order",
    "ioc.web.pages.floods.refresh": "/floods",
    "ioc.web.pages.floods.gauge": "/floods",
    "ioc.web.pages.floods.export": "/floods",
    "ioc.web.pages.floods.save": "/floods",  # and drawing flood areas needs operator or admin
    "ioc.web.pages.soc.refresh": "/soc",
    "ioc.web.pages.leader.refresh": "/leader",
    "ioc.web.pages.leader.download": "/leader",  # the period's report, PDF or XLSX
    "ioc.web.pages.leader_ranking.refresh": "/leader/ranking",
    "ioc.web.pages.leader_unit.refresh": "/leader/unit",
    # KPI figures by hand: the list of current values and entries, and the entry form.
    "ioc.web.pages.admin_figures.refresh": "/admin/figures",
    "ioc.web.pages.admin_figures.save": "/admin/figures",
    # KPI trends
    "ioc.web.pages.leader_kpi.refresh": "/leader/kpi",
}
PAGE_ROUTER = "dash.dash.update"
"""Dash's page router, which renders a page's layout: decided by the ``pathname`` it is asked for."""
# Clientside callbacks run in the browser only: the server has no function for them and refuses a
# POST naming one (an unknown callback), so they need no entry.

ROUTES: Mapping[str, Who] = {
    "GET /login": ANYONE,
    "POST /login": ANYONE,
    "GET /login/totp": ANYONE,  # the session must be waiting for its second factor (checked there)
    "POST /login/totp": ANYONE,
    "POST /logout": ANYONE,
    # One's own password (plain form, also the forced change at first login); the wall's is the admin's.
    "GET /account/password": frozenset(set(Role) - {R.DISPLAY}),
    "POST /account/password": frozenset(set(Role) - {R.DISPLAY}),
    "GET /lang/<code>": ANYONE,
    "GET /healthz": ANYONE,
    "GET /transparency": ANYONE,
    "GET /assets/<path:filename>": ANYONE,
    "GET /_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": ANYONE,
    "GET /_favicon.ico": ANYONE,
    "GET /_reload-hash": LOGGED_IN,
    "GET /_dash-layout": LOGGED_IN,
    "GET /_dash-dependencies": LOGGED_IN,
    "POST /_dash-update-component": LOGGED_IN,  # then the callback's own entry decides
    "GET /layers/<digest>.json": frozenset(set(Role)),
    "GET /live/stream": LOGGED_IN,  # push channel (ioc/web/push.py): each snapshot's version and changed layers
    "GET /basemap/<band>/<layer>.json": frozenset(set(Role)),  # open data (OSM, units), but only maps use it
    "GET /media/sim/<ticket_id>/<int:n>.png": _DESK,  # simulated reports' photos, drawn by ioc.web.photos
    "GET /": LOGGED_IN,  # Dash's index page: then the page's entry decides by path
    "GET /<path:path>": LOGGED_IN,
    # Open311 GeoReport v2 (its own Flask app under /open311/v2): public GETs are published and
    # de-identified; staff keys see their scope; POST needs a key whose role may create tickets.
    "GET /services.<fmt>": ANYONE,
    "GET /services/<code>.<fmt>": ANYONE,
    "GET /requests.<fmt>": ANYONE,
    "GET /requests/<request_id>.<fmt>": ANYONE,
    "POST /requests.<fmt>": frozenset({R.TRIAGE, R.OPERATOR, R.ADMIN}),
}
"""HTTP routes (``METHOD rule`` as werkzeug spells the rule) and who may call them."""

EXPORTS: Mapping[str, frozenset[Role]] = {
    "alert.cap": frozenset(_DESK | {R.PUBLIC_ORDER}),  # one alert as CAP 1.2 XML (scope checked too)
    "tickets.stats_csv": frozenset({R.LEADER, R.STANDING_OFFICE, R.OPERATOR, R.TRIAGE, R.ADMIN}),  # city-wide
    "audit.log": frozenset({R.ADMIN}),
}

# Actions on objects: which roles, before the scope check.
OBJECT_ACTIONS: Mapping[tuple[str, Action], frozenset[Role]] = {
    ("ticket", Action.VIEW): _DESK,
    ("ticket", Action.ACT): frozenset({R.TRIAGE, R.ADMIN, R.DEPARTMENT, R.WARD}),  # scoped: own tickets
    ("ticket", Action.READ_PERSONAL): frozenset({R.TRIAGE}),  # and audited
    ("ticket", Action.CREATE): frozenset({R.TRIAGE, R.OPERATOR, R.ADMIN}),
    ("alert", Action.VIEW): frozenset(_DESK | {R.PUBLIC_ORDER, R.DISPLAY}),
    ("alert", Action.ACT): frozenset({R.OPERATOR, R.ADMIN, R.DEPARTMENT, R.WARD, R.PUBLIC_ORDER}),
    ("directive", Action.VIEW): frozenset(_DESK - {R.TRIAGE}),
    ("directive", Action.ACT): frozenset({R.LEADER, R.STANDING_OFFICE, R.DEPARTMENT, R.WARD, R.ADMIN}),
    ("user", Action.ADMIN): frozenset({R.ADMIN}),
}

DATA_CLASSES: Mapping[DataClass, Who] = {
    DataClass.PUBLIC: ANYONE,
    DataClass.INTERNAL: LOGGED_IN,
    DataClass.PERSONAL: frozenset({R.TRIAGE}),  # unmasked; everyone else gets masked copies
    DataClass.RESTRICTED: frozenset({R.LEADER, R.STANDING_OFFICE, R.FINANCE, R.PUBLIC_ORDER, R.ADMIN}),
}

# Alert classes whose data is restricted (only the RESTRICTED roles above may see them). None today:
# crowd and incident detections are operational, handled by IOC operators; add a class here when a
# restricted source (budget, public-order intelligence) starts raising alerts.
RESTRICTED_ALERT_CLASSES: frozenset[str] = frozenset()


def _who(rule: Who, principal: Principal | None) -> Decision:
    if rule == ANYONE:
        return Decision(True, "public")
    if principal is None:
        return Decision(False, "login required")
    if rule == LOGGED_IN:
        return Decision(True, "logged in")
    if isinstance(rule, frozenset) and principal.role in rule:
        return Decision(True, f"role {principal.role.value}")
    return Decision(False, f"role {principal.role.value} not allowed")


def decide(principal: Principal | None, resource: Resource, action: Action = Action.VIEW) -> Decision:
    """Allow or deny ``action`` on ``resource`` for ``principal`` (``None``: an anonymous client)."""
    k = resource.kind
    if k is Kind.PAGE:
        rule = PAGES.get(resource.name)
        return Decision(False, f"no policy for page {resource.name!r}") if rule is None else _who(rule, principal)
    if k is Kind.CALLBACK:
        page = CALLBACKS.get(resource.name)
        if page is None:
            return Decision(False, f"no policy for callback {resource.name!r}")
        return decide(principal, Resource.page(page))
    if k is Kind.ROUTE:
        rule = ROUTES.get(resource.name)
        return Decision(False, f"no policy for route {resource.name!r}") if rule is None else _who(rule, principal)
    if k is Kind.EXPORT:
        roles = EXPORTS.get(resource.name)
        if roles is None:
            return Decision(False, f"no policy for export {resource.name!r}")
        return _who(roles, principal)
    if k is Kind.DATA:
        return _who(DATA_CLASSES[resource.data_class], principal)
    return _decide_object(principal, resource, action)


def _decide_object(principal: Principal | None, resource: Resource, action: Action) -> Decision:
    roles = OBJECT_ACTIONS.get((resource.name, action))
    if roles is None:
        return Decision(False, f"no policy for {action.value} on {resource.name!r}")
    if principal is None:
        return Decision(False, "login required")
    if principal.role not in roles:
        return Decision(False, f"role {principal.role.value} may not {action.value} a {resource.name}")
    if resource.data_class is DataClass.RESTRICTED and action is not Action.READ_PERSONAL:
        d = _who(DATA_CLASSES[DataClass.RESTRICTED], principal)
        sector_ok = principal.role is Role.DEPARTMENT and resource.sector in principal.scope.sectors
        if not d and not sector_ok:
            return Decision(False, f"restricted {resource.name}: role {principal.role.value}")
    if resource.name == "user":
        return Decision(True, "administrator")
    if action is Action.READ_PERSONAL and principal.scoped:
        return Decision(False, "personal data only for city-wide triage staff")
    if not principal.scoped:
        return Decision(True, f"role {principal.role.value}, city-wide")
    if principal.role in SCOPED_ROLES and principal.scope.city_wide:
        return Decision(False, f"{principal.role.value} user {principal.username!r} has no scope")
    scope = principal.scope
    if action is Action.ACT and resource.name == "ticket":
        ok = scope.owns(resource.owner)
        return Decision(ok, "own ticket" if ok else f"ticket owned by {resource.owner!r}, not in scope")
    ok = scope.covers(resource.admin_unit, resource.sector, resource.owner)
    where = resource.admin_unit or resource.sector or resource.owner
    return Decision(ok, "in scope" if ok else f"{resource.name} of {where!r} is outside the user's scope")


def may_at_all(principal: Principal | None, kind: str, action: Action = Action.VIEW) -> bool:
    """True when ``principal`` may ``action`` some object of ``kind`` (its role, and a scope if its
    role needs one): whether to query at all, before each object's own :func:`decide`."""
    roles = OBJECT_ACTIONS.get((kind, action))
    if principal is None or roles is None or principal.role not in roles:
        return False
    if action is Action.READ_PERSONAL and principal.scoped:
        return False
    return not (principal.role in SCOPED_ROLES and principal.scope.city_wide)


def page_allowed(principal: Principal | None, path: str) -> bool:
    return decide(principal, Resource.page(path)).allowed


def home_for(principal: Principal) -> str:
    """Where a user lands after login: the wall for the display account, the cockpit for leaders,
    the map for others."""
    if principal.role is Role.LEADER:
        return "/leader"
    return "/wall" if principal.role is Role.DISPLAY else "/"


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValueError(f"unknown role {value!r}: expected one of {[r.value for r in Role]}") from None
