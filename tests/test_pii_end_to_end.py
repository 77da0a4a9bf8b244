"""Personal data minimised end to end (issue 11, item 6), proven the way an auditor would check it:
a report with a distinctive name and phone goes through the real broker, the feedback consumer and
the ticket intake (each under its own database role); then the database dump, every service log and
the dead-letter topic are searched for those values — and the only place they can be read in clear
is the triage desk, for triage staff, audited."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from ioc.kafka import make_producer
from ioc.launcher import Stack
from ioc.services.proc import wait_until
from ioc.sources import SOURCES, SourceKind
from ioc.sources.feedback import FeedbackEvent
from ioc.tickets import store
from ioc.tickets.privacy import reporter_view
from ioc.tickets.store import Viewer
from ioc.topics import DEADLETTER, topic_for
from tests.streamutil import table_counts
from tests.test_spine_badinput import deadletter_topic_messages

pytestmark = pytest.mark.integration

NAME = "Vương Thị Bích Ngọc"
PHONE = "0987 111 222"
NEEDLES = (NAME, "Vương Thị", "Bích Ngọc", PHONE, "0987111222", "987111222", "0987.111.222")


def pg_dump(dsn: str) -> str:
    binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))
    exe = str(binaries[-1]) if binaries else shutil.which("pg_dump")
    if exe is None:
        pytest.skip("no pg_dump binary (Debian package postgresql)")
    p = conninfo_to_dict(dsn)
    env = {"PGPASSWORD": str(p.get("password", "")), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(  # noqa: S603 - fixed binary, arguments from the test's own DSN
        [exe, "-h", str(p["host"]), "-p", str(p["port"]), "-U", str(p["user"]), "-d", str(p["dbname"]), "--no-owner"],
        env=env, capture_output=True, check=True,
    )  # fmt: skip
    return out.stdout.decode("utf-8", "replace")


def leaks(text: str) -> list[str]:
    flat = text.replace("\\u", "")
    return [n for n in NEEDLES if n in text or n in flat]


def _report(ticket: str, **update: object) -> FeedbackEvent:
    return FeedbackEvent(
        event_id=uuid.uuid4(), source_id="hps-app", event_time=datetime.now(UTC) - timedelta(minutes=5),
        ticket_id=ticket, text="Cống thoát nước tắc, nước tràn vào ngõ 7 Lạch Tray", lon=106.6874, lat=20.8536,
        reporter_name=NAME, reporter_phone=PHONE, **update,
    )  # fmt: skip


def test_a_reports_personal_data_is_nowhere_in_clear(stack: Stack) -> None:
    s = stack.settings
    topic = topic_for(SourceKind.FEEDBACK, s.topic_prefix)
    good = _report("PII-1")
    # A well-formed report that fails validation (latitude outside Vietnam): dead-lettered with its bytes.
    bad = json.loads(_report("PII-2").to_json())
    bad["lat"] = 99.0
    # And one whose (encrypted) phone is not a phone: the old reasons quoted such values in clear.
    from ioc.crypto import default_keyring

    odd = json.loads(_report("PII-3").to_json())
    odd["reporter_phone"] = default_keyring().encrypt("gọi " + PHONE + " " + NAME, "ioc.feedback.reporter_phone")
    wire = good.to_json()
    assert all(n.encode() not in wire for n in NEEDLES)  # the producer contract: encrypted on the topic
    producer = make_producer(s.kafka_bootstrap or "")
    producer.send(topic, key=good.key(), value=wire)
    producer.send(topic, key=b"hps-app", value=json.dumps(bad).encode())
    producer.send(topic, key=b"hps-app", value=json.dumps(odd).encode())
    producer.flush()
    producer.close()
    stack.start_consumer(SourceKind.FEEDBACK)
    stack.start_downstream(alerts=False, web=False, intake=True)
    dsn = s.database_dsn()
    wait_until(lambda: table_counts(dsn)["feedback_events"] == 1 and table_counts(dsn)["deadletter"] == 2, 90,
               "the report stored and the bad ones dead-lettered")  # fmt: skip
    with psycopg.connect(dsn, autocommit=True) as conn:
        wait_until(lambda: store.get_ticket(conn, "PII-1") is not None, 90, "the intake to make a ticket")
        ticket = store.require_ticket(conn, "PII-1")
        assert (ticket.reporter_name, ticket.reporter_phone) == (NAME, PHONE)  # readable by the desk …
        masked = reporter_view(conn, Viewer("lan", "leader"), ticket)
        assert NAME not in str(masked.name) and "111" not in str(masked.phone)  # … masked for a leader …
        staff = reporter_view(conn, Viewer("an", "triage"), ticket)
        assert staff.phone == PHONE  # … in clear for triage staff, audited:
        assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'ticket.reporter_viewed'").fetchone()[0] == 1
        stored = conn.execute("SELECT reporter_name, reporter_phone FROM tickets WHERE ticket_id = 'PII-1'").fetchone()
        reasons = " | ".join(r[0] for r in conn.execute("SELECT reason FROM deadletter ORDER BY id").fetchall())
        users = {r[0] for r in conn.execute("SELECT DISTINCT usename FROM pg_stat_activity WHERE datname ="
                                            " current_database() AND application_name LIKE 'ioc-sink%%'").fetchall()}
    assert all(v.startswith("pd1:") for v in stored)
    assert "lat" in reasons and "reporter_phone" in reasons and leaks(reasons) == []
    assert users == {"ioc_ingest"}  # the consumer ran under its own role, not the owner
    stack.stop_child("ticket-intake")
    stack.stop_child("stream-feedback")

    dump = pg_dump(dsn)
    assert "PII-1" in dump and "pd1:" in dump  # the rows are there, encrypted
    assert leaks(dump) == [], "personal data in clear in the database dump"
    assert stack.log_dir is not None
    logs = "\n".join(p.read_text(errors="replace") for p in stack.log_dir.glob("*.log"))
    assert leaks(logs) == [], "personal data in a service log"
    records = deadletter_topic_messages(s.kafka_bootstrap or "", s.topic_prefix + DEADLETTER, 2)
    topic_text = " ".join(r.value.decode("utf-8", "replace") + " ".join(v.decode("utf-8", "replace") for _, v in r.headers)
                          for r in records)  # fmt: skip
    assert "reporter_phone" in topic_text and leaks(topic_text) == [], "personal data on the dead-letter topic"


def test_a_producer_breaking_the_contract_leaves_no_clear_text_in_the_dead_letters(stack: Stack) -> None:
    s = stack.settings
    clear = json.loads(_report("PII-3").to_json())
    clear["reporter_name"], clear["reporter_phone"] = NAME, PHONE  # a producer that does not encrypt
    producer = make_producer(s.kafka_bootstrap or "")
    producer.send(topic_for(SourceKind.FEEDBACK, s.topic_prefix), key=b"hps-app", value=json.dumps(clear).encode())
    producer.flush()
    producer.close()
    stack.start_consumer(SourceKind.FEEDBACK)
    dsn = s.database_dsn()
    wait_until(lambda: table_counts(dsn)["deadletter"] == 1, 90, "the clear-text report dead-lettered")
    with psycopg.connect(dsn) as conn:
        raw, reason = conn.execute("SELECT raw, reason FROM deadletter").fetchone()
    assert "must be encrypted" in reason and leaks(reason) == []  # the reason is right already …
    assert leaks(bytes(raw).decode("utf-8", "replace")) == []  # … the stored bytes need the consumer's call


def test_every_personal_column_is_text_so_it_can_be_encrypted() -> None:
    for spec in SOURCES.values():
        for c in spec.columns:
            if c.personal:
                assert c.type == "text", (spec.kind, c.name)
