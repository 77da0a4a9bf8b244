"""Production parity: docker-compose.yml runs every process `ioc up` supervises, each with a restart policy,
a health check and the settings the services read; every IOC_* name in it is a real setting."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ioc.launcher import supervised_processes
from ioc.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
# What the services cannot run without (everything else has a default that suits production).
REQUIRED = {"IOC_DATABASE_URL", "IOC_KAFKA_BOOTSTRAP", "IOC_TOPIC_PARTITIONS", "IOC_SECRET_KEY", "IOC_WEB_HOST",
            "IOC_WEB_PORT", "IOC_BROKER_OFFSETS_RELIABLE"}


def _python_args(command: list[str]) -> list[str]:
    """The ``python`` arguments a compose command amounts to (``ioc X`` is ``-m ioc.cli X``)."""
    if command[:2] == ["python", "-m"]:
        return command[1:]
    if command[0] == "ioc":
        return ["-m", "ioc.cli", *command[1:]]
    if command[0] == "gunicorn":  # the web app under gunicorn instead of the launcher's waitress server
        assert "ioc.web.wsgi:server" in command
        return ["-m", "ioc.web.webserver"]
    raise AssertionError(f"unexpected command {command}")


def test_every_supervised_process_runs_in_production():
    services = COMPOSE["services"]
    expected = supervised_processes()
    missing = sorted(set(expected) - set(services))
    assert not missing, f"docker-compose.yml lacks {missing}"
    for name, args in expected.items():
        got = _python_args(services[name]["command"])
        assert got == args, (name, got, args)  # the simulator too: 1x is the default and production's pace


def test_restart_policies_and_health_checks():
    services = COMPOSE["services"]
    for name in [*supervised_processes(), "kafka", "timescaledb"]:
        svc = services[name]
        assert svc.get("restart") in ("unless-stopped", "always"), name
        assert svc.get("healthcheck", {}).get("test"), f"{name} has no health check"
    # The checks ask the same health report as /healthz, naming the component each service beats as.
    checks = {n: " ".join(services[n]["healthcheck"]["test"]) for n in supervised_processes()}
    for kind in ("camera", "traffic", "air", "feedback"):
        assert f"--component consumer:{kind}" in checks[f"stream-{kind}"]
    assert "engine:alerts" in checks["alerts"] and "intake:tickets" in checks["ticket-intake"]


def test_settings_the_services_read_are_set_and_real():
    env = COMPOSE["x-ioc-env"]
    assert REQUIRED <= set(env), sorted(REQUIRED - set(env))
    fields = {f"IOC_{n.upper()}" for n in Settings.model_fields}
    # What the IOC services read (their environment's keys) must be real settings ...
    service_envs = [env] + [s["environment"] for s in COMPOSE["services"].values()
                            if isinstance(s.get("environment"), dict) and "IOC_KAFKA_BOOTSTRAP" in s["environment"]]
    read = {k for e in service_envs for k in e if k.startswith("IOC_")}
    assert read <= fields, f"not settings: {sorted(read - fields)}"
    # ... and every ${IOC_…} the file interpolates (passwords per role, the proxy's address) is in .env.example.
    text = (ROOT / "docker-compose.yml").read_text()
    interpolated = set(re.findall(r"\$\{(IOC_[A-Z_]+)", text))
    example = set(re.findall(r"^(IOC_[A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert interpolated <= example, sorted(interpolated - example)
    assert COMPOSE["services"]["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
