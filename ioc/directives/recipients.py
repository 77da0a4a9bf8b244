"""Who a directive can go to: departments, commune-level units, the city police, the IOC operators.

All read at run time, nothing hard-coded here:

* the agencies of ``alerts/agencies.yaml`` (the alert classes' owners; the templated
  ``UBND {admin_unit}`` entry stands for the communes below);
* the departments of ``ioc/directives/departments.yaml`` (each citing the document line naming it),
  among them the standing office (Văn phòng UBND thành phố), the last step of escalation;
* the commune-level units (xã, phường, đặc khu) of the boundary set in force
  (:func:`geodata.boundaries.boundary_set_for`), as ``XA-<unit code>``;
* the IOC operators (``IOC``).

Who belongs to a recipient (its staff and its head) is the ``directive_members`` table; how it is
reached beyond the app (e-mail, a webhook) is ``directive_channels``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources

import psycopg
import yaml
from psycopg.rows import class_row

UNIT_PREFIX = "XA-"
IOC_CODE = "IOC"
POLICE_CODE = "CATP"


class RecipientKind(StrEnum):
    DEPARTMENT = "department"
    COMMUNE = "commune"
    POLICE = "police"
    IOC = "ioc"
    STANDING_OFFICE = "standing_office"


KIND_NAMES: dict[RecipientKind, tuple[str, str]] = {
    RecipientKind.DEPARTMENT: ("Sở, ban, ngành", "Departments"),
    RecipientKind.COMMUNE: ("Xã, phường, đặc khu", "Communes and wards"),
    RecipientKind.POLICE: ("Công an", "Police"),
    RecipientKind.IOC: ("Trung tâm IOC", "IOC centre"),
    RecipientKind.STANDING_OFFICE: ("Văn phòng UBND thành phố", "Standing office"),
}


@dataclass(frozen=True, slots=True)
class Recipient:
    code: str
    kind: RecipientKind
    name_vi: str
    name_en: str
    unit_code: str | None = None  # communes: the boundary set's code
    aliases: tuple[str, ...] = ()

    def name(self, lang: str = "vi") -> str:
        return self.name_vi if lang == "vi" else self.name_en


@dataclass(frozen=True)
class Registry:
    """Every recipient, in a stable order (standing office, departments, police, IOC, communes)."""

    recipients: tuple[Recipient, ...]
    boundary_set_id: str

    def get(self, code: str) -> Recipient:
        for r in self.recipients:
            if r.code == code:
                return r
        raise KeyError(f"unknown recipient {code!r}")

    def __contains__(self, code: object) -> bool:
        return any(r.code == code for r in self.recipients)

    def of_kind(self, kind: RecipientKind) -> tuple[Recipient, ...]:
        return tuple(r for r in self.recipients if r.kind is kind)

    @property
    def standing_office(self) -> Recipient:
        return self.of_kind(RecipientKind.STANDING_OFFICE)[0]

    def for_unit(self, unit_code: str) -> Recipient:
        return self.get(UNIT_PREFIX + unit_code)

    def match_name(self, name: str) -> Recipient | None:
        """The recipient called ``name`` (or one of its former names), case and spacing ignored."""
        key = " ".join(name.split()).casefold()
        for r in self.recipients:
            if key in {" ".join(n.split()).casefold() for n in (r.name_vi, *r.aliases)}:
                return r
        return None


def _yaml(package: str, name: str) -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(resources.files(package).joinpath(name).read_text(encoding="utf-8"))


@cache
def _registry(on: date) -> Registry:
    from geodata.boundaries import boundary_set_for

    deps = _yaml("ioc.directives", "departments.yaml")
    agencies = _yaml("alerts", "agencies.yaml")["agencies"]
    aliases = {k: tuple(v) for k, v in (deps.get("agency_aliases") or {}).items()}
    out: list[Recipient] = []
    for d in deps["departments"]:
        kind = RecipientKind.STANDING_OFFICE if d.get("standing_office") else RecipientKind.DEPARTMENT
        out.append(Recipient(d["code"], kind, d["name_vi"], d["name_en"], aliases=tuple(d.get("aliases") or ())))
    seen = {r.code for r in out}
    for a in agencies.values():
        code = str(a["code"])
        if "{" in a["name_vi"] or code in seen or code.endswith("-IOC"):
            continue  # the communes come from the boundary set; the IOC centre is below
        kind = RecipientKind.POLICE if code == POLICE_CODE else RecipientKind.DEPARTMENT
        out.append(Recipient(code, kind, a["name_vi"], a["name_en"], aliases=aliases.get(code, ())))
        seen.add(code)
    if POLICE_CODE not in seen:
        out.append(Recipient(POLICE_CODE, RecipientKind.POLICE, "Công an thành phố", "City Police"))
    out.append(
        Recipient(IOC_CODE, RecipientKind.IOC, "Trung tâm Giám sát, điều hành đô thị thông minh (IOC)",
                  "Intelligent Operations Centre (IOC) operators")
    )  # fmt: skip
    bset = boundary_set_for(on)
    for u in bset.leaves():
        out.append(Recipient(UNIT_PREFIX + u.code, RecipientKind.COMMUNE, f"UBND {u.full_name}",
                             f"People's Committee of {u.full_name}", unit_code=u.code))  # fmt: skip
    order = {RecipientKind.STANDING_OFFICE: 0, RecipientKind.DEPARTMENT: 1, RecipientKind.POLICE: 2,
             RecipientKind.IOC: 3, RecipientKind.COMMUNE: 4}
    out.sort(key=lambda r: (order[r.kind], r.name_vi if r.kind is not RecipientKind.COMMUNE else ""))
    return Registry(tuple(out), bset.id)


def registry() -> Registry:
    """The recipients for the boundary set in force today (built once per day and process)."""
    return _registry(date.today())


def recipient_for_agency(code: str, admin_unit: str | None = None) -> str | None:
    """The recipient an alert's owning agency stands for (communes by the alert's unit)."""
    reg = registry()
    if code.endswith("-IOC"):
        return IOC_CODE
    if code in reg:
        return code
    if admin_unit and UNIT_PREFIX + admin_unit in reg:
        return UNIT_PREFIX + admin_unit
    return None


# --- members: which users act for which recipient ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Member:
    username: str
    recipient_code: str
    is_head: bool


def add_member(conn: psycopg.Connection, username: str, recipient_code: str, *, head: bool = False) -> None:
    """Make ``username`` act for ``recipient_code`` (its head with ``head``)."""
    if recipient_code not in registry():
        raise KeyError(f"unknown recipient {recipient_code!r}")
    conn.execute(
        "INSERT INTO directive_members (username, recipient_code, is_head) VALUES (%s, %s, %s)"
        " ON CONFLICT (username, recipient_code) DO UPDATE SET is_head = EXCLUDED.is_head",
        (username, recipient_code, head),
    )


def members(conn: psycopg.Connection, recipient_code: str) -> list[Member]:
    with conn.cursor(row_factory=class_row(Member)) as cur:
        return cur.execute(
            "SELECT username, recipient_code, is_head FROM directive_members WHERE recipient_code = %s"
            " ORDER BY username",
            (recipient_code,),
        ).fetchall()


def scope_of(conn: psycopg.Connection, username: str) -> frozenset[str]:
    """The recipient codes a user acts for (empty: none)."""
    rows = conn.execute(
        "SELECT recipient_code FROM directive_members WHERE username = %s", (username,)
    ).fetchall()
    return frozenset(str(r[0]) for r in rows)


def codes_for_scope(sectors: frozenset[str], units: frozenset[str]) -> frozenset[str]:
    """The recipients a user's access scope (``ioc.access.Scope``) stands for: each unit (code or
    name) as its commune, each sector (any of its agency codes) as the department or police."""
    reg = registry()
    out: set[str] = set()
    for unit in units:
        r = reg.get(UNIT_PREFIX + unit) if UNIT_PREFIX + unit in reg else reg.match_name(unit)
        if r is not None:
            out.add(r.code)
    for r in reg.recipients:
        if r.kind is not RecipientKind.COMMUNE and ({r.code, *r.aliases} & sectors):
            out.add(r.code)
    return frozenset(out)
