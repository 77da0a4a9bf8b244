"""Score the alert engine against the simulators' ground truth: recall, false alarms, lead time.

Each scenario runs in memory: first ``warmup`` of the normal city before the scenario's start (its
traffic and air readings teach the anomaly models; its citizen reports give the usual report rate
per admin unit), then the scenario itself through :class:`alerts.engine.AlertEngine`, with a clock
tick every simulated minute. Every raised alert (a raise, or a reactivation after a clear) is
matched to a planted incident when it concerns one of the incident's sources (or, for alerts with a
place but no source, lies near the incident's place) between the incident's start and its end plus
``grace``. Unmatched raises are false alarms. Lead time is the incident's peak minus its first
matching raise (positive = warned before the peak).

One parameter set (``alerts/rules.yaml``) serves every scenario; nothing here knows their names.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from tqdm import tqdm

from alerts.engine import AlertEngine, usual_report_rates
from alerts.model import AlertUpdate, UpdateKind
from alerts.rules import Location, RuleConfig
from geodata.sites import load_sites
from ioc.sources import SourceKind
from ioc.sources.feedback import FeedbackAction, FeedbackEvent
from simulators.city import City
from simulators.scenario import Incident, IncidentClass, Scenario, distance_m, load_scenario, scenario_names

TICK = timedelta(minutes=1)
DEFAULT_WARMUP = timedelta(days=1)
DEFAULT_GRACE = timedelta(minutes=30)
EARLY = timedelta(minutes=10)  # an alert this long before the start still counts (rounding of ramps)
NEAR_M = 1500.0  # placeless alerts (report bursts) match within this distance of the incident's edge


@dataclass
class RaisedAlert:
    """One alarm an operator would see: a raise (or reactivation) of an incident key."""

    key: str
    rule_id: str
    alert_class: str
    raised_at: datetime
    source_id: str | None
    admin_unit: str | None
    lon: float | None
    lat: float | None
    title_en: str
    detail_en: str
    cleared_at: datetime | None = None
    incident: str | None = None
    rule_version: str | None = None  # the early warnings record their rule's version
    warning_class: str | None = None


@dataclass
class IncidentResult:
    incident: Incident
    alerts: list[RaisedAlert] = field(default_factory=list)

    @property
    def detected(self) -> bool:
        return bool(self.alerts)

    @property
    def lead(self) -> timedelta | None:
        """Peak minus the first matching raise (positive = before the peak)."""
        if not self.alerts:
            return None
        return self.incident.peak - min(a.raised_at for a in self.alerts)


@dataclass
class ScenarioResult:
    name: str
    seed: int
    start: datetime
    end: datetime
    sensors: int
    events: int
    alerts: list[RaisedAlert]
    incidents: list[IncidentResult]
    warning: str | None = None  # budget | public_order | flood | soc for an early-warning scenario

    @property
    def false_alarms(self) -> list[RaisedAlert]:
        return [a for a in self.alerts if a.incident is None]

    @property
    def days(self) -> float:
        return (self.end - self.start) / timedelta(days=1)

    def false_alarm_rate(self) -> float:
        """False alarms per 100 sensors per day."""
        return len(self.false_alarms) / (self.sensors / 100) / self.days


def sensor_count() -> int:
    """Fixed sensors that can raise alerts: cameras, traffic segments and air stations."""
    return sum(len(load_sites(k)) for k in (SourceKind.CAMERA, SourceKind.TRAFFIC, SourceKind.AIR))


def _locator(on: date):  # type: ignore[no-untyped-def]
    from geodata.admin import AdminAssigner
    from geodata.boundaries import boundary_set_for

    assigner = AdminAssigner(boundary_set_for(on))
    places = {s.source_id: Location(s.lon, s.lat, assigner.assign(s.lon, s.lat)) for s in load_sites(None)}
    return assigner.assign, places.get, assigner.name


def _matches(alert: RaisedAlert, inc: Incident, grace: timedelta) -> bool:
    if not (inc.start - EARLY <= alert.raised_at <= inc.end + grace):
        return False
    if alert.source_id is not None:
        return alert.source_id in inc.sources
    if alert.lon is None or alert.lat is None:
        return False
    reach = (inc.reports.radius_m if inc.reports else 0.0) + NEAR_M
    return distance_m(alert.lon, alert.lat, inc.place.lon, inc.place.lat) <= reach


def attribute(alerts: Sequence[RaisedAlert], incidents: Sequence[IncidentResult], grace: timedelta) -> None:
    """Give each alarm to the first planted incident it matches (the rest are false alarms)."""
    for a in alerts:
        for r in incidents:
            if _matches(a, r.incident, grace):
                a.incident = r.incident.id
                r.alerts.append(a)
                break


class _Collector:
    """Turns the engine's updates into alarms (raises and reactivations)."""

    def __init__(self) -> None:
        self.alerts: list[RaisedAlert] = []
        self.open: dict[str, RaisedAlert] = {}

    def add(self, u: AlertUpdate) -> None:
        current = self.open.get(u.key)
        if u.kind is UpdateKind.CLEAR:
            if current is not None:
                current.cleared_at = u.at
                del self.open[u.key]
            return
        if current is None:
            a = RaisedAlert(
                u.key, u.rule_id, u.alert_class.value, u.at, u.source_id, u.admin_unit, u.lon, u.lat,
                u.title_en, u.detail_en,
            )  # fmt: skip
            self.alerts.append(a)
            self.open[u.key] = a


def run_scenario(
    scenario: str | Scenario,
    seed: int = 7,
    *,
    duration: timedelta | None = None,
    warmup: timedelta = DEFAULT_WARMUP,
    grace: timedelta = DEFAULT_GRACE,
    config: RuleConfig | None = None,
    progress: bool = True,
) -> ScenarioResult:
    """Run one scenario (optionally cut to ``duration``) through a warmed-up engine and score it."""
    sc = load_scenario(scenario) if isinstance(scenario, str) else scenario
    if sc.warning is not None:
        return run_warning(sc, seed, duration=duration, config=config)
    start = sc.start
    end = start + (duration or sc.duration)
    admin_unit_of, locate, unit_label = _locator(start.date())
    engine = AlertEngine(config, seed=seed, admin_unit_of=admin_unit_of, locate=locate, unit_label=unit_label)
    collector = _Collector()

    # Warm-up: the normal city before the scenario, same seed, no incidents.
    if warmup > timedelta(0):
        quiet = sc.model_copy(update={"incidents": ()})
        before = City(
            quiet,
            seed,
            start=start - warmup,
            kinds=frozenset({SourceKind.TRAFFIC, SourceKind.AIR, SourceKind.FEEDBACK}),
        )
        reports: list[tuple[datetime, str | None]] = []
        bar = tqdm(
            total=int(warmup / TICK),
            desc=f"{sc.name}: warm-up",
            unit="min",
            disable=not progress,
            leave=False,
        )
        last = before.start
        for e in before.events(start):
            if isinstance(e, FeedbackEvent):
                if e.action is FeedbackAction.CREATED:
                    reports.append((e.event_time, admin_unit_of(e.lon, e.lat)))
                continue
            for u in engine.process(e):
                collector.add(u)
            if e.event_time - last >= TICK:
                bar.update(int((e.event_time - last) / TICK))
                last = e.event_time
        bar.close()
        rates, profile = usual_report_rates(reports, warmup / timedelta(hours=1))
        engine.set_usual_report_rates(rates, profile)
        # Alerts still open when the scenario starts count as raised at its start.
        carried = [a for a in collector.alerts if a.cleared_at is None]
        for a in carried:
            a.raised_at = start
        collector.alerts = carried

    city = City(sc, seed, start=start)
    next_tick = start + TICK
    n = 0
    bar = tqdm(total=int((end - start) / TICK), desc=sc.name, unit="min", disable=not progress, leave=False)
    for e in city.events(end):
        while e.event_time >= next_tick:
            for u in engine.tick(next_tick):
                collector.add(u)
            next_tick += TICK
            bar.update(1)
        for u in engine.process(e):
            collector.add(u)
        n += 1
    bar.close()

    incidents = [IncidentResult(i) for i in city.incidents if i.start < end]
    attribute(collector.alerts, incidents, grace)
    return ScenarioResult(sc.name, seed, start, end, sensor_count(), n, collector.alerts, incidents)


def run_warning(sc: Scenario, seed: int, *, duration: timedelta | None = None, history: timedelta | None = None,
                config: RuleConfig | None = None) -> ScenarioResult:  # fmt: skip
    """An early-warning scenario (``warning:`` in its file) through its simulator and rules."""
    from alerts.evaluate_warnings import run_warning_scenario, sensors

    alarms, incidents, n, start, end, _ = run_warning_scenario(sc, seed, duration=duration, history=history,
                                                               config=config)  # fmt: skip
    alerts = [RaisedAlert(a.key, a.rule_id, a.alert_class, a.raised_at, a.source_id, a.admin_unit, a.lon, a.lat,
                          a.title_en, a.detail_en, a.cleared_at, a.incident, a.rule_version, a.warning_class)
              for a in alarms]  # fmt: skip
    results = [IncidentResult(i, [a for a in alerts if a.incident == i.id]) for i in incidents]
    return ScenarioResult(sc.name, seed, start, end, sensors(str(sc.warning), config), n, alerts, results,
                          warning=sc.warning)  # fmt: skip


@dataclass(frozen=True)
class WarningSummary:
    """One early-warning class over its scenarios and seeds."""

    warning: str
    detected: int
    planted: int
    false_alarms: int
    sensor_days: float
    leads: tuple[timedelta, ...]
    seeds: tuple[int, ...]
    alerts: int
    incidents_grouped: int  # the alerts of the runs grouped into incidents (alerts.incidents)

    @property
    def recall(self) -> float:
        return self.detected / self.planted if self.planted else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / (self.sensor_days / 100) if self.sensor_days else 0.0


@dataclass
class Evaluation:
    results: list[ScenarioResult]

    def recall(self) -> dict[IncidentClass, tuple[int, int]]:
        """Per incident class: (detected, planted)."""
        out: dict[IncidentClass, tuple[int, int]] = {}
        for r in self.results:
            for i in r.incidents:
                d, n = out.get(i.incident.cls, (0, 0))
                out[i.incident.cls] = (d + int(i.detected), n + 1)
        return out

    def overall_recall(self) -> float:
        pairs = self.recall().values()
        total = sum(n for _, n in pairs)
        return sum(d for d, _ in pairs) / total if total else 1.0

    def false_alarm_rate(self, names: Sequence[str] | None = None) -> float:
        """False alarms per 100 sensors per day over the chosen scenarios (all by default)."""
        rs = [r for r in self.results if names is None or r.name in names]
        fa = sum(len(r.false_alarms) for r in rs)
        sensor_days = sum(r.sensors * r.days for r in rs)
        return fa / (sensor_days / 100) if sensor_days else 0.0

    def quiet(self) -> list[str]:
        """City scenarios that plant no incident (the false-alarm baseline)."""
        return [r.name for r in self.results if not r.incidents and r.warning is None]

    def warnings(self) -> list[WarningSummary]:
        """Per early-warning class: recall, false alarms per 100 sensors per day, lead times."""
        from alerts.incidents import group_alarms

        out = []
        for kind in ("budget", "public_order", "flood", "soc"):
            rs = [r for r in self.results if r.warning == kind]
            if not rs:
                continue
            incs = [i for r in rs for i in r.incidents]
            grouped = sum(len(group_alarms(r.alerts)) for r in rs)
            out.append(WarningSummary(
                kind, sum(i.detected for i in incs), len(incs), sum(len(r.false_alarms) for r in rs),
                sum(r.sensors * r.days for r in rs), tuple(i.lead for i in incs if i.lead is not None),
                tuple(sorted({r.seed for r in rs})), sum(len(r.alerts) for r in rs), grouped,
            ))  # fmt: skip
        return out


def evaluate(
    names: Sequence[str] | None = None,
    seed: int = 7,
    *,
    duration: timedelta | None = None,
    warmup: timedelta = DEFAULT_WARMUP,
    config: RuleConfig | None = None,
    progress: bool = True,
    jobs: int = 1,
    seeds: Sequence[int] | None = None,
) -> Evaluation:
    """Run the scenarios (all shipped ones by default) with one progress bar, ``jobs`` at a time;
    ``seeds`` runs every scenario once per seed (instead of ``seed``)."""
    names = list(names or scenario_names())
    runs = [(name, s) for s in (seeds or (seed,)) for name in names]
    kwargs = {"duration": duration, "warmup": warmup, "config": config}
    if jobs <= 1:
        results = [
            run_scenario(name, s, progress=progress, **kwargs)  # type: ignore[arg-type]
            for name, s in tqdm(runs, desc="scenarios", unit="scenario", disable=not progress)
        ]
        return Evaluation(results)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_scenario, name, s, progress=False, **kwargs) for name, s in runs]  # type: ignore[arg-type]
        for _ in tqdm(as_completed(futures), total=len(futures), desc="scenarios", unit="scenario",
                      disable=not progress):  # fmt: skip
            pass
        return Evaluation([f.result() for f in futures])  # in submission order: runs order


def _fmt_td(d: timedelta | None) -> str:
    if d is None:
        return "—"
    minutes = d.total_seconds() / 60
    return f"{minutes:+.0f} min"


def write_report(ev: Evaluation, out: Path) -> Path:
    """REPORT.md with tables and plots (recall per class, lead times, per-scenario timelines)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    recall = ev.recall()

    fig, ax = plt.subplots(figsize=(7, 3.2))
    classes = [c.value for c in recall]
    ax.bar(classes, [d / n * 100 for d, n in recall.values()], color="#2b6cb0")
    ax.axhline(95, color="#c53030", linestyle="--", label="target 95 %")
    ax.set_ylabel("recall (%)")
    ax.set_ylim(0, 105)
    ax.tick_params(axis="x", rotation=25)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(plots / "recall.png", dpi=110)
    plt.close(fig)

    incs = [(r.name, i) for r in ev.results for i in r.incidents]
    fig, ax = plt.subplots(figsize=(7, 0.4 * max(3, len(incs)) + 1))
    labels = [f"{i.incident.id} ({name})" for name, i in incs]
    leads = [(i.lead.total_seconds() / 60 if i.lead is not None else 0.0) for _, i in incs]
    ax.barh(labels, leads, color=["#2f855a" if v >= 0 else "#dd6b20" for v in leads])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("lead time before the incident's peak (min)")
    fig.tight_layout()
    fig.savefig(plots / "lead_times.png", dpi=110)
    plt.close(fig)

    city = [r for r in ev.results if r.warning is None]
    for r in city:
        fig, ax = plt.subplots(figsize=(8, 2.6))

        def hours(t: datetime, r: ScenarioResult = r) -> float:
            return (t - r.start) / timedelta(hours=1)

        rules = sorted({a.rule_id for a in r.alerts}) or ["(none)"]
        for inc in r.incidents:
            ax.axvspan(hours(inc.incident.start), hours(inc.incident.end), color="#fed7d7", alpha=0.6)
            ax.axvline(hours(inc.incident.peak), color="#c53030", linewidth=0.8)
        for a in r.alerts:
            y = rules.index(a.rule_id)
            ax.plot([hours(a.raised_at)], [y], "o" if a.incident else "x",
                    color="#2f855a" if a.incident else "#c53030")  # fmt: skip
        ax.set_yticks(range(len(rules)), rules)
        ax.set_xlim(0, hours(r.end))
        ax.set_xlabel("hours from start (red band: incident, line: peak; o matched, x false alarm)")
        ax.set_title(r.name)
        fig.tight_layout()
        fig.savefig(plots / f"timeline_{r.name}.png", dpi=100)
        plt.close(fig)

    quiet = ev.quiet()
    lines = [
        "# Alert engine against the simulators' ground truth",
        "",
        f"Generated {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} by `ioc evaluate scenarios` "
        f"(seed {ev.results[0].seed if ev.results else '—'}, one parameter set: `alerts/rules.yaml`).",
        "",
        "Each scenario runs after a warm-up of the normal city before its start (anomaly models learn, "
        "usual report rates are counted). An alert matches an incident when it concerns one of its "
        "sources (report bursts: lies near its place) between its start (−10 min) and its end "
        "(+30 min). Unmatched raises are false alarms. Lead time = incident peak − first matching raise.",
        "",
        "## Summary",
        "",
        f"- Recall over all incidents: **{ev.overall_recall():.0%}** (target ≥ 95 %)",
        f"- False alarms per 100 sensors per day, quiet scenarios ({', '.join(quiet) or '—'}): "
        f"**{ev.false_alarm_rate(quiet) if quiet else float('nan'):.2f}** (target ≤ 1)",
        f"- False alarms per 100 sensors per day, all scenarios (whole runs): **{ev.false_alarm_rate():.2f}**",
        "",
        "## Recall per incident class",
        "",
        "| class | detected | planted | recall |",
        "|---|---:|---:|---:|",
    ]
    for c, (d, n) in recall.items():
        lines.append(f"| {c.value} | {d} | {n} | {d / n:.0%} |")
    lines += ["", "![recall](plots/recall.png)", "", "## Incidents", "",
              "| scenario | incident | class | detected by | alerts | lead before peak |",
              "|---|---|---|---|---:|---:|"]  # fmt: skip
    for name, i in incs:
        by = ", ".join(sorted({a.rule_id for a in i.alerts})) or "**missed**"
        lines.append(
            f"| {name} | {i.incident.id} | {i.incident.cls.value} | {by} | {len(i.alerts)} | {_fmt_td(i.lead)} |"
        )
    lines += ["", "![lead times](plots/lead_times.png)", "", "## Scenarios", "",
              "| scenario | hours | events | alerts | false alarms | per 100 sensors per day |",
              "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in ev.results:
        lines.append(f"| {r.name} | {r.days * 24:.0f} | {r.events:,} | {len(r.alerts)} | {len(r.false_alarms)} | "
                     f"{r.false_alarm_rate():.2f} |")  # fmt: skip
    fas = [(r.name, a) for r in ev.results for a in r.false_alarms]
    lines += ["", "## False alarms", ""]
    if not fas:
        lines.append("None.")
    else:
        lines += ["| scenario | raised | rule | alert | detail |", "|---|---|---|---|---|"]
        for name, a in fas:
            lines.append(
                f"| {name} | {a.raised_at:%Y-%m-%d %H:%M} UTC | {a.rule_id} | {a.title_en} | {a.detail_en} |"
            )
    lines += warnings_section(ev)
    lines += ["", "## Timelines", ""]
    lines += [f"![{r.name}](plots/timeline_{r.name}.png)" for r in city]
    path = out / "REPORT.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _lead_text(leads: Sequence[timedelta]) -> str:
    if not leads:
        return "—"
    import statistics

    def one(d: timedelta) -> str:
        h = d.total_seconds() / 3600
        return f"{h / 24:+.0f} d" if abs(h) >= 48 else f"{h:+.1f} h"

    med = timedelta(seconds=statistics.median(d.total_seconds() for d in leads))
    return f"{one(med)} (min {one(min(leads))}, max {one(max(leads))})"


def warnings_section(ev: Evaluation) -> list[str]:
    """The early warnings' table: recall, false alarms per 100 sensors per day, lead, alerts → incidents."""
    summaries = ev.warnings()
    if not summaries:
        return []
    lines = ["", "## Early warnings: budget revenue, public order, floods, SOC", "",
             "Each class runs its own simulator after its history (budget: the three previous years; public "
             "order: eight weeks; floods: two weeks; SOC: four weeks). Sensors: watched budget series (9), police "
             "units (114), water-level and rain gauges (20), SOC origins (3). Lead = planted peak − first "
             "matching raise (a sudden drop peaks when it starts, so its lead is negative by how long it took "
             "to see it).", "",
             "| class | seeds | detected | planted | recall | false alarms | per 100 sensors per day | lead before peak | "
             "alerts → incidents |", "|---|---|---:|---:|---:|---:|---:|---|---|"]  # fmt: skip
    for w in summaries:
        seeds = f"{w.seeds[0]}–{w.seeds[-1]}" if len(w.seeds) > 1 else str(w.seeds[0])
        lines.append(f"| {w.warning} | {seeds} | {w.detected} | {w.planted} | {w.recall:.0%} | {w.false_alarms} | "
                     f"{w.false_alarm_rate:.3f} | {_lead_text(w.leads)} | {w.alerts} → {w.incidents_grouped} |")
    rules: dict[tuple[str, str], int] = {}
    for r in ev.results:
        for a in r.alerts:
            if a.warning_class:
                k = (a.rule_id, a.rule_version or "")
                rules[k] = rules.get(k, 0) + 1
    if rules:
        lines += ["", "| rule | version | alerts raised |", "|---|---|---:|"]
        lines += [f"| {rid} | {ver} | {n} |" for (rid, ver), n in sorted(rules.items())]
    return lines


__all__ = [
    "Evaluation",
    "IncidentResult",
    "RaisedAlert",
    "ScenarioResult",
    "evaluate",
    "run_scenario",
    "sensor_count",
    "write_report",
]
