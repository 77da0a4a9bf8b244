"""Triage queue load time for a large backlog: database query + layout build (+ JSON to the browser).

    python benchmarks/triage_queue.py [--tickets 10000] [--repeat 7] [--dsn postgresql://…]

Without ``--dsn`` (or ``IOC_DATABASE_URL``) it starts the embedded PostgreSQL in a temporary
directory. It writes N tickets whose histories come from the real state machine (received →
suggested → classified → assigned → in progress, 80 % still open, deadlines spread around now),
bulk-loaded with COPY, then times what the ``/triage`` queue callback does: the queue query
(least time left first), the working-time-left of every row and the table layout (the 300 rows
drawn, and all N for comparison), and the JSON the browser receives. Prints medians.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from plotly.utils import PlotlyJSONEncoder
from psycopg.types.json import Jsonb
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ioc import db  # noqa: E402
from ioc.settings import Settings  # noqa: E402
from ioc.tickets import store, views  # noqa: E402
from ioc.tickets.calendar import default_calendar  # noqa: E402
from ioc.tickets.categories import load_catalog  # noqa: E402
from ioc.tickets.routing import RoutingTable  # noqa: E402
from ioc.tickets.store import QueueFilter, Scope, Viewer  # noqa: E402
from ioc.tickets.workflow import Change, Kind, apply, start  # noqa: E402

UNITS = ("Phường Lê Chân", "Phường Ngô Quyền", "Phường Hồng Bàng", "Phường Hải An", "Phường Kiến An",
         "Phường An Biên", "Phường Đồ Sơn", "Xã Tiên Lãng", "Xã Vĩnh Bảo", "Đặc khu Cát Hải")  # fmt: skip
TEXTS = ("Rác thải đổ trộm đầu ngõ bốc mùi", "Ổ gà lớn giữa đường", "Đèn đường tắt cả tuần",
         "Lấn chiếm vỉa hè bán hàng", "Tắc đường giờ cao điểm", "Tụ tập gây mất trật tự ban đêm")  # fmt: skip


def histories(n: int, now: datetime, seed: int = 1) -> list[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """(tickets row, event rows) per ticket, states produced by the workflow itself."""
    rng = random.Random(seed)
    catalog = load_catalog()
    routing = RoutingTable.load(catalog=catalog)
    out = []
    for i in tqdm(range(n), desc="histories", unit="ticket"):
        received = now - timedelta(minutes=rng.randint(10, 60 * 24 * 10))
        code = rng.choice(catalog.codes)
        unit = rng.choice(UNITS)
        deadline = received + timedelta(hours=rng.randint(4, 96))
        changes = [Change(Kind.RECEIVED, received, "intake", deadline=deadline),
                   Change(Kind.SUGGESTED, received, "intake", category=code, confidence=rng.random())]  # fmt: skip
        steps = rng.random()
        if steps > 0.2:
            changes.append(Change(Kind.CLASSIFIED, received + timedelta(minutes=5), "an", category=code))
        if steps > 0.4:
            o = routing.owner_for(code, unit)
            changes.append(Change(Kind.ASSIGNED, received + timedelta(minutes=6), "an", owner_kind=o.kind,
                                  owner_code=o.code, owner_name=o.name_vi))  # fmt: skip
        if steps > 0.6:
            changes.append(Change(Kind.STARTED, received + timedelta(minutes=30), "so"))
        if steps > 0.8:
            changes.append(Change(Kind.ANSWERED, received + timedelta(hours=3), "so", answer="Đã xử lý."))
        state = start(changes[0])
        for c in changes[1:]:
            state = apply(state, c)
        tid = f"BM-{i:06d}"
        ticket = (tid, received, "app", f"{rng.choice(TEXTS)} (#{i})", 106.6 + rng.random() * 0.2,
                  20.8 + rng.random() * 0.1, unit, [], "Nguyễn Văn A", "0912345678", state.status.value,
                  state.category, state.category_confirmed, state.suggested_category, state.suggested_confidence,
                  state.owner_kind, state.owner_code, state.owner_name, state.deadline, state.first_answered_at,
                  state.answered_at, state.answered_on_time, state.answer, state.version, state.updated_at)  # fmt: skip
        events, prev = [], None
        s = start(changes[0])
        for seq, c in enumerate(changes, 1):
            s = s if seq == 1 else apply(s, c)
            events.append((tid, seq, c.at, c.actor, c.kind.value, prev, s.status.value, Jsonb(c.details())))
            prev = s.status.value
        out.append((ticket, events))
    return out


def load(conn: psycopg.Connection, data: list[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]) -> None:
    with conn.transaction():
        with conn.cursor().copy(
            "COPY tickets (ticket_id, received_at, channel, text, lon, lat, admin_unit, photo_urls, reporter_name,"
            " reporter_phone, status, category, category_confirmed, suggested_category, suggested_confidence,"
            " owner_kind, owner_code, owner_name, deadline, first_answered_at, answered_at, answered_on_time,"
            " answer, version, updated_at) FROM STDIN"
        ) as copy:
            for ticket, _ in data:
                copy.write_row(ticket)
        with conn.cursor().copy(
            "COPY ticket_events (ticket_id, seq, at, actor, kind, from_status, to_status, details) FROM STDIN"
        ) as copy:
            for _, events in data:
                for e in events:
                    copy.write_row(e)
    conn.execute("ANALYZE tickets")
    conn.execute("ANALYZE ticket_events")


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds over ``repeat`` runs (after one warm-up) and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def run(dsn: str, n: int, repeat: int) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(dsn, autocommit=True) as conn:
        db.migrate(conn)
        conn.execute(
            "TRUNCATE ticket_publications, ticket_verdicts, ticket_merges, ticket_events, tickets CASCADE"
        )
        data = histories(n, now)
        t0 = time.perf_counter()
        load(conn, data)
        print(
            f"loaded {n} tickets and {sum(len(e) for _, e in data)} events with COPY in {time.perf_counter() - t0:.1f} s"
        )
        assert store.status_counts(conn) == store.history_status_counts(conn)
        catalog = load_catalog()
        default_calendar()  # build the holiday table outside the timings
        staff = Viewer("an", "triage")
        ward = Viewer("lc", "operator", (Scope("ward", "Phường Lê Chân"),))
        flt = QueueFilter(statuses=None, limit=n)
        open_flt = QueueFilter(limit=n)
        page_flt = QueueFilter(limit=views.SHOWN)  # what the page asks for: the most urgent rows + the total

        q_all, rows = timed(lambda: store.queue(conn, staff, flt, now), repeat)
        q_open, open_rows = timed(lambda: store.queue(conn, staff, open_flt, now), repeat)
        q_page, page_rows = timed(lambda: store.queue(conn, staff, page_flt, now), repeat)
        q_ward, ward_rows = timed(lambda: store.queue(conn, ward, open_flt, now), repeat)
        q_overdue, overdue_rows = timed(
            lambda: store.queue(conn, staff, QueueFilter(overdue_only=True, limit=n), now), repeat
        )

    def build(some: list[Any], shown: int) -> Any:
        return views.queue_table(some, now=now, lang="vi", viewer=staff, catalog=catalog, shown=shown)

    b_page, page = timed(lambda: build(page_rows, views.SHOWN), repeat)
    b_all, everything = timed(lambda: build(open_rows, len(open_rows)), max(1, repeat // 2))
    j_page, page_json = timed(lambda: json.dumps(page, cls=PlotlyJSONEncoder), repeat)
    j_all, all_json = timed(lambda: json.dumps(everything, cls=PlotlyJSONEncoder), max(1, repeat // 2))

    print(
        f"\ntriage queue, {n} tickets ({len(open_rows)} open, {len(overdue_rows)} overdue), median of {repeat}"
    )
    report = [
        (f"query, every status ({len(rows)} rows)", q_all),
        (f"query, open, all {len(open_rows)} rows", q_open),
        (f"query, open, as the page asks: {len(page_rows)} most urgent + total", q_page),
        (f"query, overdue only ({len(overdue_rows)} rows)", q_overdue),
        (f"query, one ward user ({len(ward_rows)} rows)", q_ward),
        (f"layout, {len(page_rows)} rows drawn (working time left for each)", b_page),
        (f"JSON to the browser, {len(page_rows)} rows ({len(page_json) / 1024:.0f} KiB)", j_page),
        ("queue callback total (page query + layout + JSON)", q_page + b_page + j_page),
        (f"for comparison: layout of all {len(open_rows)} open rows", b_all),
        (f"for comparison: their JSON ({len(all_json) / 1024 / 1024:.1f} MiB)", j_all),
    ]
    for label, seconds in report:
        print(f"  {label:<66}{seconds * 1000:9.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--dsn", help="an existing database (its tickets are replaced)")
    args = parser.parse_args()
    settings = Settings()
    dsn = args.dsn or (settings.database_dsn() if settings.database_url else None)
    if dsn:
        run(dsn, args.tickets, args.repeat)
        return
    from ioc.launcher import Stack

    root = Path(tempfile.mkdtemp(prefix="ioc-bench-triage-"))
    try:
        stack = Stack(Settings(data_dir=root, database_url=None, kafka_bootstrap=None))
        try:
            stack.start_services()
            run(stack.settings.database_dsn(), args.tickets, args.repeat)
        finally:
            stack.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
