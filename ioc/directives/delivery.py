"""Delivery beyond the app: e-mail through SMTP and signed webhooks, retried with backoff, every
attempt logged.

Messages are queued in ``directive_deliveries`` in the same transaction as the directive's event
(an outbox), so nothing is announced that did not happen and nothing that happened is lost. The
worker (:mod:`ioc.directives.worker`) calls :func:`deliver_due`, which claims due rows with
``FOR UPDATE SKIP LOCKED`` (several workers never send the same row), sends, and records the attempt.

Webhook bodies are signed: header ``X-IOC-Signature: sha256=<hex>`` is the HMAC-SHA256 of
``<X-IOC-Timestamp>.<body>`` with the channel's key (from the environment, never the database),
so a receiver can check both origin and freshness. Any 2xx answer is success; anything else,
including a timeout, is retried after ``retry_base * 2**(n-1)`` seconds until ``max_attempts``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.mime.text import MIMEText
from typing import Any

import psycopg

from ioc.directives.recipients import registry
from ioc.directives.settings import DirectiveSettings
from ioc.directives.workflow import Change, Kind, kind_name, priority_name
from ioc.tickets.calendar import TZ as _TZ

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-IOC-Signature"
TIMESTAMP_HEADER = "X-IOC-Timestamp"
EVENT_HEADER = "X-IOC-Event"


def directive_link(base: str, directive_id: int, recipient: str | None = None) -> str:
    """Where a recipient opens the directive (the inbox) or the leader's board."""
    base = base.rstrip("/")
    return f"{base}/inbox?directive={directive_id}" if recipient else f"{base}/directives?directive={directive_id}"


def message_for(
    directive_id: int, seq: int, change: Change, title: str, about: str, to: str
) -> tuple[str, dict[str, Any]]:
    """Subject and JSON payload of the message telling ``to`` about ``change``."""
    reg = registry()
    head = {Kind.ESCALATED: "Nhắc việc quá hạn" if change.reason and change.reason.value == "overdue"
            else "Chưa xác nhận đã nhận"}.get(change.kind, kind_name(change.kind))  # fmt: skip
    subject = f"[Chỉ đạo #{directive_id}] {head}: {title}"[:200]
    payload: dict[str, Any] = {
        "directive_id": directive_id,
        "event_seq": seq,
        "event": change.kind.value,
        "at": change.at.isoformat(),
        "actor": change.actor,
        "title": title,
        "recipient": about,
        "recipient_name": reg.get(about).name_vi if about in reg else about,
        "to": to,
    }
    for name in ("deadline", "ack_due"):
        v = getattr(change, name)
        if v is not None:
            payload[name] = v.isoformat()
    if change.note and change.kind is not Kind.CREATED:
        payload["note"] = change.note
    if change.level is not None:
        payload["level"] = change.level
        payload["reason"] = change.reason.value if change.reason else None
    return subject, payload


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    http_status: int | None = None
    error: str | None = None


def sign(key: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(key: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (the tests' receiver uses it): constant-time comparison."""
    return hmac.compare_digest(sign(key, timestamp, body), signature)


def _email_text(payload: dict[str, Any], body: str, priority: str, link: str) -> str:
    lines = [
        f"Kính gửi: {payload['recipient_name']}",
        "",
        f"Nội dung chỉ đạo: {payload['title']}",
        f"Độ khẩn: {priority_name(priority)}",
    ]
    if payload.get("deadline"):
        lines.append(f"Thời hạn: {datetime.fromisoformat(payload['deadline']).astimezone(_TZ):%H:%M %d/%m/%Y}")
    if payload.get("note"):
        lines.append(f"Ghi chú: {payload['note']}")
    lines += ["", body, "", f"Xem và xác nhận đã nhận: {link}", "", "Trung tâm IOC Hải Phòng (thư tự động)"]
    return "\n".join(lines)


def send_email(settings: DirectiveSettings, to: str, subject: str, text: str) -> Outcome:
    if not settings.smtp_host:
        return Outcome(False, error="IOC_SMTP_HOST is not set")
    # compat32 MIMEText with a Header: Python 3.11's default folder drops the space between two
    # encoded words of a long Vietnamese subject ("Dọn rác" arrives as "Dọnrác").
    msg = MIMEText(text, "plain", "utf-8")
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Subject"] = Header(subject, "utf-8")
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user and settings.smtp_password:
                smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        return Outcome(False, error=f"{type(exc).__name__}: {exc}"[:500])
    return Outcome(True)


def http_endpoint(url: str) -> bool:
    """True for an absolute http(s) URL: a configured endpoint never reads files or odd schemes."""
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def send_webhook(url: str, body: bytes, key: bytes | None, event: str, timeout: float) -> Outcome:
    if not http_endpoint(url):
        return Outcome(False, error=f"refused webhook URL {url[:80]!r}: only http(s) endpoints are allowed")
    if key is None:
        return Outcome(False, error="no webhook key: set IOC_DIRECTIVES_WEBHOOK_SECRET or the channel's secret_env")
    ts = str(int(time.time()))
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: sign(key, ts, body), TIMESTAMP_HEADER: ts, EVENT_HEADER: event,
        "User-Agent": "haiphong-ioc-directives/1",
    })  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - configured http(s) URL
            return Outcome(200 <= resp.status < 300, resp.status, None if resp.status < 300 else f"HTTP {resp.status}")
    except urllib.error.HTTPError as exc:
        return Outcome(False, exc.code, f"HTTP {exc.code}")
    except (OSError, ValueError) as exc:
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])


def deliver_due(conn: psycopg.Connection, settings: DirectiveSettings, now: datetime, *, limit: int = 50) -> int:
    """Send what is due (one attempt each); returns the number of attempts made."""
    made = 0
    for _ in range(limit):
        with conn.transaction():
            row = conn.execute(
                "SELECT dl.id, dl.directive_id, dl.recipient_code, dl.channel, dl.address, dl.secret_env,"
                " dl.subject, dl.payload, dl.attempts, d.body, d.priority FROM directive_deliveries dl"
                " JOIN directives d USING (directive_id)"
                " WHERE dl.status = 'pending' AND dl.next_attempt_at <= %s"
                " ORDER BY dl.next_attempt_at, dl.id LIMIT 1 FOR UPDATE OF dl SKIP LOCKED",
                (now,),
            ).fetchone()
            if row is None:
                break
            did, directive_id, code, channel, address, secret_env, subject, payload, attempts, body, prio = row
            started = time.monotonic()
            link = directive_link(settings.public_url, directive_id, payload.get("recipient"))
            if channel == "email":
                outcome = send_email(settings, address, subject, _email_text(payload, body, prio, link))
            else:
                data = json.dumps({**payload, "body": body, "link": link}, ensure_ascii=False).encode()
                outcome = send_webhook(address, data, settings.webhook_key(secret_env), payload["event"],
                                       settings.webhook_timeout_seconds)  # fmt: skip
            ms = (time.monotonic() - started) * 1000
            attempts += 1
            conn.execute(
                "INSERT INTO directive_delivery_attempts (delivery_id, at, ok, http_status, error, duration_ms)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (did, now, outcome.ok, outcome.http_status, outcome.error, ms),
            )
            if outcome.ok:
                conn.execute(
                    "UPDATE directive_deliveries SET status = 'sent', attempts = %s, sent_at = %s, last_error = NULL"
                    " WHERE id = %s",
                    (attempts, now, did),
                )
            else:
                failed = attempts >= settings.delivery_max_attempts
                conn.execute(
                    "UPDATE directive_deliveries SET status = %s, attempts = %s, last_error = %s,"
                    " next_attempt_at = %s WHERE id = %s",
                    ("failed" if failed else "pending", attempts, outcome.error,
                     now + timedelta(seconds=settings.backoff(attempts)), did),
                )  # fmt: skip
                log.warning("delivery %s (%s to %s) attempt %d failed: %s", did, channel, code, attempts, outcome.error)
            made += 1
    return made


@dataclass(frozen=True)
class AttemptRow:
    delivery_id: int
    at: datetime
    ok: bool
    http_status: int | None
    error: str | None
    duration_ms: float


def attempts_of(conn: psycopg.Connection, delivery_id: int) -> list[AttemptRow]:
    rows = conn.execute(
        "SELECT delivery_id, at, ok, http_status, error, duration_ms FROM directive_delivery_attempts"
        " WHERE delivery_id = %s ORDER BY id",
        (delivery_id,),
    ).fetchall()
    return [AttemptRow(*r) for r in rows]
