"""Delivery beyond the app against real local servers: SMTP (aiosmtpd), a webhook receiver that
checks the HMAC signature and answers 500 before 200, the worker process under SIGTERM, and the
public warning's CAP round trip with its approval rule."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr

from alerts.cap import CAP_NS, validate_cap
from ioc.directives import store
from ioc.directives import warnings as pw
from ioc.directives.delivery import SIGNATURE_HEADER, TIMESTAMP_HEADER, attempts_of, deliver_due, verify
from ioc.directives.settings import DirectiveSettings
from ioc.directives.store import NewDirective
from ioc.directives.workflow import Priority
from ioc.services.proc import wait_until
from tests.directives_util import add_person, two_wards
from tests.receivers import http_receiver, smtp_receiver

pytestmark = pytest.mark.integration
KEY = "khóa-bí-mật-thử-nghiệm"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def conn(pg_dsn: str) -> psycopg.Connection:
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        yield c


def _body(m: Message) -> str:
    return str(m.get_content())  # type: ignore[attr-defined]


def test_email_through_a_real_smtp_server_with_a_link(conn: psycopg.Connection) -> None:
    w1, w2 = two_wards()
    leader = add_person(conn, "lan", "leader")
    store.add_channel(conn, w1, "email", "vanthu@p1.haiphong.gov.vn")
    store.add_channel(conn, w2, "email", "vanthu@p2.haiphong.gov.vn")
    now = datetime.now(UTC)
    did = store.create_directive(conn, NewDirective("Dọn rác sau bão", "Huy động lực lượng dọn rác.",
                                                    Priority.NORMAL, 2, (w1, w2)), leader, now)  # fmt: skip
    with smtp_receiver() as smtp:
        settings = DirectiveSettings(smtp_host=smtp.host, smtp_port=smtp.port, public_url="https://ioc.haiphong.gov.vn")
        assert deliver_due(conn, settings, now) == 2
        wait_until(lambda: len(smtp.messages) == 2, 10, "two e-mails received")
    got = {m["To"]: m for m in smtp.messages}
    m = got["vanthu@p1.haiphong.gov.vn"]
    assert m["Subject"] == f"[Chỉ đạo #{did}] Giao nhiệm vụ: Dọn rác sau bão"
    text = _body(m)
    assert f"https://ioc.haiphong.gov.vn/inbox?directive={did}" in text and "Huy động lực lượng" in text
    assert "Độ khẩn: Thường" in text
    assert {d.status for d in store.deliveries(conn, did)} == {"sent"}


def test_email_without_a_server_is_retried_then_failed(conn: psycopg.Connection) -> None:
    w1, _ = two_wards()
    leader = add_person(conn, "lan", "leader")
    store.add_channel(conn, w1, "email", "vanthu@p1.haiphong.gov.vn")
    now = datetime.now(UTC)
    did = store.create_directive(conn, NewDirective("X", "Y", Priority.URGENT, 2, (w1,)), leader, now)
    from ioc.services.proc import free_port

    settings = DirectiveSettings(smtp_host="127.0.0.1", smtp_port=free_port(), delivery_max_attempts=2,
                                 delivery_retry_base_seconds=60)  # fmt: skip
    assert deliver_due(conn, settings, now) == 1
    assert deliver_due(conn, settings, now + timedelta(seconds=30)) == 0  # waiting out the backoff
    assert deliver_due(conn, settings, now + timedelta(seconds=61)) == 1
    (d,) = store.deliveries(conn, did)
    assert d.status == "failed" and d.attempts == 2 and "Connection" in (d.last_error or "")
    assert [a.ok for a in attempts_of(conn, d.id)] == [False, False]


def test_webhook_signed_and_retried_on_500(conn: psycopg.Connection) -> None:
    w1, _ = two_wards()
    leader = add_person(conn, "lan", "leader")
    now = datetime.now(UTC)
    with http_receiver() as hook:
        hook.statuses = [500, 500]
        store.add_channel(conn, w1, "webhook", hook.url, secret_env="IOC_TEST_WARD_HOOK_KEY")
        os.environ["IOC_TEST_WARD_HOOK_KEY"] = KEY
        try:
            did = store.create_directive(conn, NewDirective("Kiểm tra cống", "Nạo vét.", Priority.FLASH, 3, (w1,)),
                                         leader, now)  # fmt: skip
            settings = DirectiveSettings(delivery_retry_base_seconds=10)
            t = now
            for wait in (0, 10, 20):  # backoff 10 s, then 20 s
                t += timedelta(seconds=wait)
                assert deliver_due(conn, settings, t) == 1
        finally:
            del os.environ["IOC_TEST_WARD_HOOK_KEY"]
    assert len(hook.requests) == 3
    for r in hook.requests:
        assert verify(KEY.encode(), r.headers[TIMESTAMP_HEADER.lower()], r.body, r.headers[SIGNATURE_HEADER.lower()])
        assert not verify(b"wrong key", r.headers[TIMESTAMP_HEADER.lower()], r.body, r.headers[SIGNATURE_HEADER.lower()])
    doc = json.loads(hook.requests[-1].body)
    assert doc["directive_id"] == did and doc["event"] == "created" and doc["recipient"] == w1
    assert doc["link"].endswith(f"/inbox?directive={did}")
    (d,) = store.deliveries(conn, did)
    assert d.status == "sent" and d.attempts == 3
    assert [(a.ok, a.http_status) for a in attempts_of(conn, d.id)] == [(False, 500), (False, 500), (True, 200)]


def test_worker_process_delivers_and_stops_on_sigterm(conn: psycopg.Connection, pg_dsn: str) -> None:
    w1, _ = two_wards()
    leader = add_person(conn, "lan", "leader")
    with smtp_receiver() as smtp:
        store.add_channel(conn, w1, "email", "vanthu@p1.haiphong.gov.vn")
        store.create_directive(conn, NewDirective("Báo cáo nhanh", "…", Priority.URGENT, 1, (w1,)), leader,
                               datetime.now(UTC))  # fmt: skip
        env = {**os.environ, "IOC_DATABASE_URL": pg_dsn, "IOC_SMTP_HOST": smtp.host, "IOC_SMTP_PORT": str(smtp.port),
               "IOC_DIRECTIVES_TICK_SECONDS": "0.2", "PYTHONPATH": str(ROOT)}  # fmt: skip
        proc = subprocess.Popen([sys.executable, "-m", "ioc.directives.worker"], env=env, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            wait_until(lambda: len(smtp.messages) == 1, 30, "the worker's e-mail")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert "Báo cáo nhanh" in smtp.messages[0]["Subject"]


# --- public warnings --------------------------------------------------------------------------------


def _cap(xml: bytes) -> ET.Element:
    validate_cap(xml)  # the receiver checks the schema, as the information-source system would
    return ET.fromstring(xml)


def _t(el: ET.Element, path: str) -> str:
    found = el.find(path.replace("c:", f"{{{CAP_NS}}}"))
    assert found is not None and found.text is not None, path
    return found.text


def test_public_warning_round_trip_with_second_person_approval(conn: psycopg.Connection) -> None:
    w1, w2 = two_wards()
    units = (w1.removeprefix("XA-"), w2.removeprefix("XA-"))
    for name, role in (("vanhanh", "operator"), ("lan", "leader")):
        add_person(conn, name, role)
    now = datetime.now(UTC)
    draft = pw.WarningDraft(units, "Cảnh báo ngập sâu", "Nước ngập 40–60 cm trên các tuyến phố, hạn chế đi lại.",
                            "Severe", "Immediate", "Observed", now + timedelta(hours=6),
                            instruction_vi="Không đi qua vùng ngập; di chuyển xe lên chỗ cao.")  # fmt: skip
    with http_receiver() as endpoint:
        settings = DirectiveSettings(cap_endpoint=endpoint.url, cap_endpoint_token=SecretStr("tok"))
        w = pw.compose(conn, draft, "vanhanh", "operator", now)
        assert w.status == "awaiting_approval"
        with pytest.raises(pw.WarningError, match="second person"):
            pw.send(conn, w.warning_id, "vanhanh", "operator", now, settings)
        with pytest.raises(pw.WarningError, match="different person"):
            pw.approve(conn, w.warning_id, "vanhanh", "operator", now)
        with pytest.raises(pw.WarningError, match="may not"):
            pw.approve(conn, w.warning_id, "tuong", "display", now)
        assert endpoint.requests == []
        pw.approve(conn, w.warning_id, "lan", "leader", now + timedelta(minutes=1))
        sent = pw.send(conn, w.warning_id, "vanhanh", "operator", now + timedelta(minutes=2), settings)
        assert sent.status == "sent" and sent.http_status == 200
        (req,) = endpoint.requests
        assert req.headers["authorization"] == "Bearer tok" and req.headers["content-type"].startswith("application/cap+xml")
        root = _cap(req.body)
        assert _t(root, "c:msgType") == "Alert" and _t(root, "c:info/c:language") == "vi-VN"
        assert _t(root, "c:info/c:severity") == "Severe" and _t(root, "c:info/c:urgency") == "Immediate"
        assert _t(root, "c:info/c:headline") == "Cảnh báo ngập sâu"
        areas = root.findall(f"{{{CAP_NS}}}info/{{{CAP_NS}}}area")
        assert [_t(a, "c:geocode/c:value") for a in areas] == list(units)
        for a in areas:
            poly = _t(a, "c:polygon").split()
            assert len(poly) >= 4 and poly[0] == poly[-1]
        # Cancel: a new message referencing the original.
        c = pw.cancel(conn, w.warning_id, "lan", "leader", "Nước đã rút", now + timedelta(hours=1), settings)
        assert c.msg_type == "Cancel" and c.status == "sent"
        cancel_root = _cap(endpoint.requests[1].body)
        assert _t(cancel_root, "c:msgType") == "Cancel"
        assert w.identifier in _t(cancel_root, "c:references")
        assert pw.get_warning(conn, w.warning_id).status == "cancelled"
        # A minor one needs no approval; the log has every step.
        m = pw.compose(conn, pw.WarningDraft(units[:1], "Thông báo", "Cắt điện 8:00–11:00.", "Minor", "Expected",
                                             "Likely", now + timedelta(hours=3)), "vanhanh", "operator", now)  # fmt: skip
        assert m.status == "ready"
    actions = [r.action for r in reversed(pw.warning_log(conn, w.warning_id))]
    assert actions == ["composed", "approved", "sent", "cancelled"]
    with pytest.raises(psycopg.errors.CheckViolation):  # the database refuses self-approval too
        conn.execute("UPDATE public_warnings SET approved_by = created_by WHERE warning_id = %s", (m.warning_id,))
    assert uuid.UUID(str(w.warning_id))


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "javascript:alert(1)", "/relative"])
def test_endpoints_other_than_http_are_refused_before_any_request(url: str) -> None:
    from ioc.directives.delivery import http_endpoint, send_webhook

    assert not http_endpoint(url)
    out = send_webhook(url, b"{}", b"k" * 32, "directive.created", timeout=1.0)
    assert not out.ok and "only http(s)" in (out.error or "")
    assert http_endpoint("https://loa.haiphong.gov.vn/cap") and http_endpoint("http://127.0.0.1:8080/hook")
