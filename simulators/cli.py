"""``ioc simulate``, ``ioc replay`` and ``ioc scenarios``."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from ioc.settings import Settings
from simulators.base import in_run, new_run_id
from simulators.city import City
from simulators.live import stamp_on_wall_clock, truth_on_wall_clock
from simulators.publish import KafkaSender, MemorySender, Sender, publish, with_malformed
from simulators.replay import load_stream, merge, never_future, retime
from simulators.scenario import load_scenario, parse_duration, scenario_names
from simulators.wire import Message


def _parse_start(value: str | None) -> datetime | None:
    if value is None:
        return None
    if value == "now":
        return datetime.now(UTC).replace(second=0, microsecond=0)
    try:
        t = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"invalid --start {value!r}: use ISO 8601 (2026-03-10T07:00+07:00) or 'now'"
        ) from exc
    if t.tzinfo is None:
        raise typer.BadParameter(f"--start {value!r} needs a UTC offset, e.g. {value}+07:00")
    return t


def _default_bootstrap(settings: Settings) -> str | None:
    """IOC_KAFKA_BOOTSTRAP, else the embedded broker a running ``ioc up`` announced in runtime.json."""
    if settings.kafka_bootstrap:
        return settings.kafka_bootstrap
    runtime = Path(settings.data_dir) / "runtime.json"
    try:
        return json.loads(runtime.read_text()).get("kafka_bootstrap") or None
    except (OSError, ValueError):
        return None


def _sender(bootstrap: str | None, dry_run: bool) -> tuple[Sender, contextlib.AbstractContextManager]:
    if dry_run:
        return MemorySender(), contextlib.nullcontext()
    bootstrap = bootstrap or _default_bootstrap(Settings())
    if not bootstrap:
        raise typer.BadParameter(
            "no broker: pass --bootstrap HOST:PORT, set IOC_KAFKA_BOOTSTRAP, or use --dry-run"
        )
    kafka = KafkaSender(bootstrap)
    return kafka, contextlib.closing(kafka)


def _speed(value: float) -> float | None:
    if value < 0:
        raise typer.BadParameter(f"--speed must be >= 0 (0 = as fast as possible), got {value}")
    return value or None


def simulate(
    scenario: Annotated[
        str, typer.Option(help="Scenario name (see `ioc scenarios`) or a YAML path.")
    ] = "normal_day",
    speed: Annotated[
        float, typer.Option(help="Simulated seconds per real second; 0 = as fast as possible.")
    ] = 60.0,
    duration: Annotated[str | None, typer.Option(help="e.g. 2h, 90m, 1d (default: the scenario's).")] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same events, byte for byte.")] = 7,
    start: Annotated[
        str | None, typer.Option(help="ISO start time with offset, or 'now' (default: scenario's).")
    ] = None,
    record: Annotated[Path | None, typer.Option(help="Write every message sent to this JSONL file.")] = None,
    truth: Annotated[Path | None, typer.Option(help="Ground-truth JSON (default: next to --record).")] = None,
    malformed_share: Annotated[
        float, typer.Option(help="Share of extra malformed messages, e.g. 0.05.")
    ] = 0.0,
    bootstrap: Annotated[
        str | None, typer.Option(help="Kafka HOST:PORT (default: IOC_KAFKA_BOOTSTRAP).")
    ] = None,
    prefix: Annotated[str | None, typer.Option(help="Topic prefix (default: IOC_TOPIC_PREFIX).")] = None,
    dry_run: Annotated[bool, typer.Option(help="Generate (and record) without a broker.")] = False,
    progress: Annotated[bool, typer.Option(help="Show the progress bar.")] = True,
    wall_clock: Annotated[
        bool,
        typer.Option(
            help="Time-lapse for a live dashboard: stamp each event with the wall-clock time it is sent "
            "(the city's clock still starts at --start and runs --speed times faster)."
        ),
    ] = False,
    run_id: Annotated[
        str | None,
        typer.Option(help="Name of this run: event ids are unique per (seed, run id). Default: a new random "
                     "one, so a drill never collides with the live city; reuse one to resend the same bytes."),
    ] = None,
) -> None:
    """Run a scenario: publish the simulated city onto the topics, with its ground truth."""
    try:
        sc = load_scenario(scenario)
        span = parse_duration(duration) if duration else sc.duration
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    city = City(sc, seed, start=_parse_start(start))
    run_id = run_id or new_run_id()
    typer.echo(f"run id: {run_id} (seed {seed}; event ids unique to this run)", err=True)
    end = city.start + span
    ground_truth = city.truth(end)
    truth = truth or (record.with_suffix(".truth.json") if record else None)
    pace = _speed(speed)
    if wall_clock:
        if pace is None:
            raise typer.BadParameter("--wall-clock needs a pace: --speed > 0")
        now = datetime.now(UTC)
        ground_truth = truth_on_wall_clock(ground_truth, city.start, now, pace)
        valid = stamp_on_wall_clock(city.events(end), city.start, now, pace, seed=seed, run_id=run_id)
        span, pace = span / pace, 1.0
    else:
        valid = (Message.of(in_run(e, seed, run_id)) for e in city.events(end))
    send, closing = _sender(bootstrap, dry_run)
    messages = with_malformed(valid, malformed_share, seed)
    with closing, record.open("w", encoding="utf-8") if record else contextlib.nullcontext() as fh:
        stats = publish(
            messages,
            send,
            prefix=Settings().topic_prefix if prefix is None else prefix,
            speed=pace,
            record=fh,
            span=span,
            progress=progress,
        )
    if truth:
        truth.write_text(ground_truth.to_json(), encoding="utf-8")
    sent = ", ".join(f"{k.value}={n:,}" for k, n in sorted(stats.sent.items()))
    bad = sum(stats.malformed.values())
    typer.echo(f"{sc.name}: {sent}; malformed={bad:,}; {len(ground_truth.incidents)} incident(s)")
    if truth:
        typer.echo(f"ground truth: {truth}")


def replay(
    files: Annotated[
        list[str], typer.Argument(help="JSONL records, or CSV series as FILE.csv[@SOURCE[:FIELD][*SCALE]].")
    ],
    speed: Annotated[
        float, typer.Option(help="Simulated seconds per real second; 0 = as fast as possible.")
    ] = 300.0,
    start: Annotated[
        str | None, typer.Option(help="Move the streams so the first event is at this time ('now').")
    ] = None,
    bootstrap: Annotated[
        str | None, typer.Option(help="Kafka HOST:PORT (default: IOC_KAFKA_BOOTSTRAP).")
    ] = None,
    prefix: Annotated[str | None, typer.Option(help="Topic prefix (default: IOC_TOPIC_PREFIX).")] = None,
    dry_run: Annotated[bool, typer.Option(help="Pace and count without a broker.")] = False,
    progress: Annotated[bool, typer.Option(help="Show the progress bar.")] = True,
    run_id: Annotated[
        str | None, typer.Option(help="Name of this replay: event ids are unique per run (default: random).")
    ] = None,
) -> None:
    """Replay recorded streams onto the topics in sync, keeping their relative timing.

    No event is ever sent with a future time: with ``--start now`` the newest recorded event is
    stamped now and the others before it; event ids are minted for the run.
    """
    try:
        streams = [load_stream(f) for f in files]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    streams = [s for s in streams if s]
    if not streams:
        raise typer.BadParameter("the replay inputs hold no events")
    first = min(s[0].time for s in streams)
    last = max(s[-1].time for s in streams)
    target = _parse_start(start)
    if start == "now":
        target = datetime.now(UTC)
    shift = never_future(first, last, target, datetime.now(UTC))
    run_id = run_id or new_run_id()
    typer.echo(f"run id: {run_id}; times shifted by {shift}", err=True)
    messages = (retime(m, shift, run_id) for m in merge(streams))
    send, closing = _sender(bootstrap, dry_run)
    with closing:
        stats = publish(
            messages,
            send,
            prefix=Settings().topic_prefix if prefix is None else prefix,
            speed=_speed(speed),
            span=last - first,
            progress=progress,
        )
    sent = ", ".join(f"{k.value}={n:,}" for k, n in sorted(stats.sent.items()))
    typer.echo(f"replayed {stats.total:,} messages ({sent}) in {stats.wall_seconds:.1f} s")


def scenarios() -> None:
    """List the scenarios with a one-line description."""
    for name in scenario_names():
        sc = load_scenario(name)
        typer.echo(f"{name:<24} {sc.description}  ({sc.description_en}; {len(sc.incidents)} incident(s))")


def register(app: typer.Typer) -> None:
    """Add ``simulate``, ``replay`` and ``scenarios`` to the ``ioc`` command."""
    app.command()(simulate)
    app.command()(replay)
    app.command()(scenarios)
