"""Every command the README shows is run (issue 17, item 9), and every CLI prints Vietnam time with
its offset, as the app shows it.

Commands are read from the README's code blocks and inline code. Those safe to run are run, in
process, on a fresh database; the long-running or state-changing ones (``make up``, ``ioc up``,
``ioc simulate`` …) and those with placeholders (``FILE``, ``NAME``, ``…``) are allow-listed by
prefix below and must at least answer ``--help``; make targets must dry-run (``make -n``).
"""

from __future__ import annotations

import re
import shlex
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from ioc.cli import app
from ioc.i18n import cli_time
from tests.webdata import insert_alert

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

# Long-running, state-changing or environment-bound commands: only their --help (make: a dry run).
HELP_ONLY = (
    "ioc up", "ioc simulate", "ioc replay", "ioc evaluate", "ioc init", "ioc audit purge", "ioc user revoke",
    "ioc user add", "ioc user totp", "ioc flood import", "ioc simulation import", "ioc simulation export",
    "ioc geodata import", "ioc directives member", "ioc tasks import-kh40", "ioc tasks", "ioc db migrate",
)  # fmt: skip
NOT_RUN = ("docker compose",)  # needs Docker: tests/test_compose.py checks the file instead
PLACEHOLDER = re.compile(r"…|\.\.\.|\[|\b[A-Z][A-Z0-9_]{2,}\b|<|\bFILE\b")
_INLINE = re.compile(r"`((?:ioc|make|python -m|docker compose) [^`]*)`")


def readme_commands() -> list[str]:
    """Every command in the README: inline code and the lines of code blocks (comments cut)."""
    text = README.read_text(encoding="utf-8")
    found: list[str] = []
    for block in re.findall(r"```(?:bash|sh|console)?\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip().removeprefix("$ ")
            if line.startswith(("ioc ", "make ", "python -m ", "docker compose ")):
                found.append(line)
    found += [" ".join(m.group(1).split()) for m in _INLINE.finditer(text)]
    return sorted(set(found))


def command_path(cmd: str) -> list[str]:
    """The words naming the (sub)command: ``ioc tickets stats --csv`` → ["tickets", "stats"]."""
    words = shlex.split(cmd)[1:]
    out = []
    for w in words:
        if w.startswith("-") or PLACEHOLDER.search(w) or not re.fullmatch(r"[a-z][a-z0-9-]*", w):
            break
        out.append(w)
    return out


def test_the_readme_lists_the_commands_the_issue_names() -> None:
    cmds = readme_commands()
    assert "ioc tickets stats --csv" in cmds and "make up" in cmds and "ioc up --help" in cmds
    assert len(cmds) > 30


@pytest.fixture
def env(pg_dsn: str, tmp_path: Path) -> dict[str, str]:
    return {"IOC_DATABASE_URL": pg_dsn, "IOC_DATA_DIR": str(tmp_path), "IOC_KAFKA_BOOTSTRAP": "127.0.0.1:1"}


@pytest.mark.integration
def test_every_readme_command_runs(env: dict[str, str], pg_dsn: str) -> None:
    runner = CliRunner()
    failures: dict[str, str] = {}
    ran = helped = 0
    for cmd in readme_commands():
        if cmd.startswith(NOT_RUN):
            continue
        if cmd.startswith("make "):
            target = shlex.split(cmd)[1] if len(shlex.split(cmd)) > 1 else ""
            r = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60)  # noqa: S603,S607
            if r.returncode != 0:
                failures[cmd] = r.stderr[-300:]
            continue
        if cmd.startswith("python -m "):
            module = shlex.split(cmd)[2]
            if module == "tests.import_rules":
                r = subprocess.run(
                    ["python3", "-m", module], cwd=ROOT, capture_output=True, text=True, timeout=120
                )  # noqa: S603,S607
                failures.update({cmd: r.stderr[-300:]} if r.returncode else {})
            continue  # workers (python -m ioc.directives.worker) are long-running: their import is tested elsewhere
        path = command_path(cmd)
        full = shlex.split(cmd)[1:]
        if cmd.startswith(HELP_ONLY) or PLACEHOLDER.search(cmd):
            args, helped = [*path, "--help"], helped + 1
        else:
            args, ran = full, ran + 1
        r = runner.invoke(app, args, env=env)
        # `ioc status --component X` exits 1 when X is down (no running stack here): a judged answer.
        judged = "--component" in args or "--feed" in args or args[:1] == ["status"]
        if r.exit_code != 0 and not (judged and r.exit_code == 1 and r.exception is None or
                                     isinstance(r.exception, SystemExit) and judged):  # fmt: skip
            failures[cmd] = f"exit {r.exit_code}: {(r.output or '')[-300:]} {r.exception!r}"
    assert failures == {}
    assert ran >= 5 and helped >= 10


@pytest.mark.integration
def test_alerts_list_prints_vietnam_time_with_the_offset(env: dict[str, str], pg_dsn: str) -> None:
    insert_alert(
        pg_dsn, "cli-time", "severe", "new", "Ùn tắc tại camera cam-lachtray-01", "Jam", 106.68, 20.85
    )
    with psycopg.connect(pg_dsn) as conn:
        (at,) = conn.execute("SELECT updated_at FROM alerts WHERE alert_key = 'cli-time'").fetchone()  # type: ignore[misc]
    r = CliRunner().invoke(app, ["alerts", "list"], env=env)
    assert r.exit_code == 0, r.output
    assert cli_time(at) in r.output and "+07:00" in r.output
    assert "cam-lachtray-01" not in r.output and "Ngã năm Lạch Tray" in r.output  # names, as on the screens


def test_cli_time_is_vietnam_time_with_its_offset() -> None:
    assert cli_time(datetime(2026, 11, 23, 11, 30, tzinfo=UTC)) == "2026-11-23 18:30+07:00"
    assert (
        cli_time(datetime(2026, 11, 23, 11, 30, 5, tzinfo=UTC), seconds=True) == "2026-11-23 18:30:05+07:00"
    )
    assert cli_time(None) == "—"


def test_no_cli_formats_a_time_without_the_helper() -> None:
    """A CLI that prints ``{x:%Y-%m-%d %H:%M}`` or ``.isoformat()`` of a stored (UTC) time would print UTC."""
    bad = []
    for path in [*ROOT.glob("ioc/**/cli*.py"), *ROOT.glob("alerts/cli*.py"), *ROOT.glob("geodata/cli*.py"),
                 ROOT / "ioc" / "cli.py"]:  # fmt: skip
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "echo" in line and re.search(r"_at:%|_time:%|_at\.isoformat\(\)|_time\.isoformat\(\)", line):
                bad.append(f"{path.relative_to(ROOT)}:{n}")
    assert bad == []
