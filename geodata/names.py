"""Names people read instead of codes: sites from the registries, administrative units from the
boundary sets, and :func:`humanise` for text already stored with codes in it.

Alert titles and details are stored as written when raised (older ones name a camera by its id,
"UBND 11443", or a p-value); every screen and the CAP export pass them through :func:`humanise`
so an operator reads "Ngã năm Lạch Tray – Cầu Đất" and "UBND Phường Lê Chân", never the codes.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from functools import cache

log = logging.getLogger(__name__)

# A registry id: lower-case words joined by hyphens ("cam-lachtray-01", "seg-caubinh-n", "air-dinhvu").
_ID = re.compile(r"\b[a-z][a-z0-9]*(?:-[a-z0-9]+)+\b")
_UBND_CODE = re.compile(r"\b(UBND|People's Committee of) (\d{3,6})\b")
_BARE_UNIT = re.compile(r"(?<=\btại )(\d{5})\b|(?<=\bin )(\d{5})\b")
# The burst rule's statistics: "12 phản ánh mới trong 30 phút, thông thường 2.0 (p = 1.4e-05)".
_BURST_VI = re.compile(r"(\d+) phản ánh mới trong (\d+) phút, thông thường ([\d.]+) \(p = [^)]*\)")
_BURST_EN = re.compile(r"(\d+) new reports in (\d+) min, usually ([\d.]+) \(p = [^)]*\)")
_P_VALUE = re.compile(r"\s*\(?\bp\s*=\s*[0-9.]+(?:e[-+]?\d+)?\)?", re.IGNORECASE)


@cache
def _sites() -> dict[str, str]:
    from geodata.sites import sites_by_id

    try:
        return {k: s.name for k, s in sites_by_id().items()}
    except Exception:  # a missing registry must not break a page: codes stay as they are
        log.exception("site registry unavailable; site names fall back to ids")
        return {}


@cache
def _units() -> dict[str, str]:
    """Unit code → full name, over every boundary set (the one in force today wins)."""
    from geodata.boundaries import boundary_set_for, load_boundary_sets, shared_boundary_sets

    out: dict[str, str] = {}
    try:
        sets = [*shared_boundary_sets(), *load_boundary_sets()]
        for bs in sets:
            out.update({u.code: u.full_name for u in bs.features})
        out.update({u.code: u.full_name for u in boundary_set_for(date.today(), sets).features})
    except Exception:
        log.exception("boundary sets unavailable; unit names fall back to codes")
    return out


def site_name(source_id: str | None) -> str:
    """The registry's name of a site ("Cầu Bính – hướng Bắc"), or the id when it is not registered."""
    if not source_id:
        return ""
    return _sites().get(source_id, source_id)


def unit_name(code: str | None) -> str:
    """The full name of an administrative unit ("Phường Lê Chân"), or the code when unknown."""
    if not code:
        return ""
    return _units().get(code, code)


def times_usual(n: float, usual: float) -> str:
    """How many times the usual count, in words a person reads: "6" (or "1,5" below 10×)."""
    if usual <= 0:
        return "∞"
    r = n / usual
    if r >= 10 or abs(r - round(r)) < 0.05:
        return f"{r:.0f}"
    return f"{r:.1f}".replace(".", ",")


def _burst(m: re.Match[str], lang: str) -> str:
    n, minutes, usual = int(m.group(1)), m.group(2), float(m.group(3))
    if lang == "en":
        return f"{n} new reports in {minutes} min, {times_usual(n, usual).replace(',', '.')} times the usual"
    return f"{n} phản ánh mới trong {minutes} phút, gấp {times_usual(n, usual)} lần mức thường lệ"


def humanise(text: str | None, lang: str = "vi") -> str:
    """``text`` with registry ids, unit codes and p-values replaced by names and plain words."""
    if not text:
        return text or ""
    out = (_BURST_EN if lang == "en" else _BURST_VI).sub(lambda m: _burst(m, lang), text)
    out = _P_VALUE.sub("", out)
    sites = _sites()
    out = _ID.sub(lambda m: sites.get(m.group(0), m.group(0)), out)
    out = _UBND_CODE.sub(lambda m: f"{m.group(1)} {unit_name(m.group(2))}", out)
    return _BARE_UNIT.sub(lambda m: unit_name(m.group(0)), out)


@cache
def _unit_shapes() -> dict[str, object]:
    from geodata.boundaries import boundary_set_for

    try:
        bs = boundary_set_for(date.today())
    except Exception:
        log.exception("no boundary set in force; no unit outlines")
        return {}
    out: dict[str, object] = {}
    for u in bs.features:
        out[u.code] = u.geometry
        out[u.full_name] = u.geometry
        out.setdefault(u.name, u.geometry)
    return out


@cache
def unit_outline(unit: str | None) -> dict[str, object] | None:
    """The unit (by code or name) as a simplified GeoJSON feature for a small map, or None."""
    import shapely.geometry

    geom = _unit_shapes().get(" ".join((unit or "").split()))
    if geom is None:
        return None
    # About 1/400 of the unit's extent: a few hundred points whatever its size (a small map).
    w, s_, e, n = geom.bounds  # type: ignore[attr-defined]
    small = geom.simplify(max(0.0003, max(e - w, n - s_) / 400), preserve_topology=True)  # type: ignore[attr-defined]
    return {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(small)}
