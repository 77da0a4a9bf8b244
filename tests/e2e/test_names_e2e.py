"""Every page in both languages, as a person reads it (issue 17, item 5): no code-like token in either
language (snake_case, registry ids, "UBND 11443", p-values, exception text) and no English word in the
Vietnamese view. Alerts stored with codes in them (as older rules wrote them) are seeded on purpose."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from geodata.names import unit_name
from ioc import accounts
from ioc.access import PAGES, Role
from ioc.sources.feedback import FeedbackEvent
from ioc.web.tickets_views import catalog
from tests.e2e.conftest import ARTIFACTS, Dashboard, log_in, shot, watch
from tests.names_check import problems
from tests.webclient import PASSWORD
from tests.webdata import store

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

LEADER_PAGES = sorted(p for p, who in PAGES.items() if Role.LEADER in who) + [
    "/transparency",
    "/account/password",
]
ADMIN_PAGES = ["/admin/users"]
# The visible text of the app, and of the wall's rotating panels that are hidden at the moment.
TEXT_JS = """() => {
  const root = document.querySelector('#react-entry-point') || document.body;
  // Allow-listed: the licence credit lines, exact texts the data's licences ask for (geodata/attribution.py).
  const credits = [...document.querySelectorAll('.leaflet-control-attribution')];
  credits.forEach(e => { e.dataset.display = e.style.display; e.style.display = 'none'; });
  const text = root.innerText;
  credits.forEach(e => { e.style.display = e.dataset.display; });
  const hidden = [...document.querySelectorAll('.ioc-wall-panel:not(.active)')].map(e => e.textContent);
  const titles = [...document.querySelectorAll('[title]')].map(e => e.getAttribute('title'))
    .filter(v => v && !v.includes('p = '));  // the rule's own figures may sit in a hover title
  return [text, ...hidden, ...titles].join('\\n');
}"""


def _seed(dsn: str) -> str:
    """Alerts written with codes (camera id, unit code, p-value) and a report with a category code."""
    code = _unit_code_with_name(dsn)
    now = datetime.now(UTC)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO alerts (alert_id, alert_key, rule_id, alert_class, severity, state, title_vi, title_en,"
            " detail_vi, detail_en, source_id, admin_unit, lon, lat, agency_code, agency_vi, agency_en, created_at,"
            " updated_at, last_seen) VALUES (%s, 'names-burst', 'citizen_burst', 'citizen_reports', 'extreme',"
            " 'new', %s, %s, %s, %s, 'cam-lachtray-01', %s, 106.68, 20.85, 'UBND-XA', %s, %s, %s, %s, %s)",
            (str(uuid.uuid4()), "Ùn tắc tại camera cam-lachtray-01", "Jam at camera cam-lachtray-01",
             "12 phản ánh mới trong 30 phút, thông thường 2.0 (p = 1.4e-05)",
             "12 new reports in 30 min, usually 2.0 (p = 1.4e-05)", code, f"UBND {code}",
             f"People's Committee of {code}", now, now, now),
        )  # fmt: skip
        conn.commit()
        accounts.add_user(conn, "quantri", PASSWORD, "admin", "Quản trị viên")
    ev = FeedbackEvent(event_id=uuid.uuid4(), event_time=now - timedelta(minutes=2), source_id="hotline-1022",
                       ticket_id="HP-NAMES-1", category="public_order", text="Tụ tập gây mất trật tự",
                       lon=106.68, lat=20.85)  # fmt: skip
    store(dsn, [ev])
    return code


def _unit_code_with_name(dsn: str) -> str:
    from geodata.names import _units

    return next(c for c, n in _units().items() if n.endswith("Lê Chân"))


def _read(page: Any, base: str, path: str, lang: str) -> str:
    page.goto(f"{base}/lang/{lang}?next={path}")
    page.wait_for_url(f"{base}{path.split('?')[0]}*")
    page.wait_for_function("() => (document.body.innerText || '').trim().length > 40", timeout=30_000)
    page.wait_for_timeout(2500)  # the first callbacks fill the panels
    # Components still loading say so in the framework's English ("Loading..."): wait until they are drawn.
    page.wait_for_function("() => !document.body.innerText.includes('Loading...')", timeout=30_000)
    if path == "/alerts":
        link = page.locator(
            "a[id*='alerts-pick']", has_text="Ùn tắc tại camera" if lang == "vi" else "Jam at camera"
        )
        link.wait_for(timeout=30_000)
        # The table re-draws on every tick: click the link as it is now, in the page.
        page.evaluate(
            "(t) => [...document.querySelectorAll(\"a[id*='alerts-pick']\")]"
            ".find(a => a.textContent.includes(t)).click()",
            "Ùn tắc tại camera" if lang == "vi" else "Jam at camera",
        )
        page.wait_for_selector(".ioc-alert-detail", timeout=30_000)
        page.wait_for_timeout(500)
    return str(page.evaluate(TEXT_JS))


@pytest.fixture(scope="module")
def seeded(dashboard: Dashboard) -> tuple[Dashboard, str]:
    return dashboard, _seed(dashboard.stack.settings.database_dsn())


@pytest.mark.parametrize(("user", "pages"), [("lan", LEADER_PAGES), ("quantri", ADMIN_PAGES)])
def test_every_page_reads_names_in_both_languages(
    seeded: tuple[Dashboard, str], browser: Any, user: str, pages: list[str]
) -> None:
    dashboard, code = seeded
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = ctx.new_page()
    w = watch(page, dashboard.base)
    log_in(page, dashboard.base, pages[0], user=user)
    found: dict[str, list[str]] = {}
    for path in pages:
        for lang in ("vi", "en"):
            text = _read(page, dashboard.base, path, lang)
            assert len(text.strip()) > 20, f"{path} ({lang}) shows nothing"
            ARTIFACTS.mkdir(parents=True, exist_ok=True)  # what was read, for the record
            (ARTIFACTS / f"names{path.replace('/', '-')}-{lang}.txt").write_text(text, encoding="utf-8")
            if bad := problems(text, lang):
                found[f"{path} ({lang})"] = sorted(set(bad))
            if path == "/alerts" and lang == "vi":
                assert "gấp 6 lần mức thường lệ" in text and f"UBND {unit_name(code)}" in text, text[-800:]
                shot(page, "names-alerts-vi")
            if path == "/wall":
                assert catalog().get("public_order").name(lang) in text  # the category's name, not its code
    page.goto(dashboard.base + "/lang/vi?next=/")
    ctx.close()
    assert found == {}
    assert w.external == []
