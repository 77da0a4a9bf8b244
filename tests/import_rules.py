"""The project's import graph and the rules its floors keep (``python -m tests.import_rules`` prints it).

Every ``import`` and ``from … import`` in the product's packages is read with ``ast`` (including
imports inside functions, which are still dependencies), and each module is placed on a floor:

- **vocabulary** (``ioc.events``, ``settings``, ``topics``, ``db``, ``schema``, ``kafka``, ``i18n``,
  ``state``, ``sources``, ``audit``, ``crypto``): imports nothing above it;
- **desks** (``ioc.accounts``, ``ioc.tickets`` …): the domain, used by the web app and the CLI;
- **stages** (``streams``, ``alerts``, ``layers``, ``geodata``, ``simulators``);
- **web** (``ioc.web``): the Dash app and every HTTP route;
- **root** (``ioc.cli``, ``ioc.cli_users``, ``ioc.launcher``, ``ioc.services``): the composition root.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ioc", "streams", "alerts", "layers", "geodata", "simulators")
VOCABULARY = ("ioc.events", "ioc.settings", "ioc.topics", "ioc.db", "ioc.schema", "ioc.kafka", "ioc.i18n",
              "ioc.state", "ioc.sources", "ioc.audit", "ioc.crypto")
ROOT_MODULES = ("ioc.cli", "ioc.cli_users", "ioc.launcher", "ioc.services")
STAGES = ("streams", "alerts", "layers", "geodata", "simulators")


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def floor(module: str) -> str:
    """The floor a project module lives on."""
    if _under(module, VOCABULARY) or module == "ioc":
        return "vocabulary"
    if _under(module, ("ioc.web",)):
        return "web"
    if _under(module, ROOT_MODULES):
        return "root"
    if _under(module, STAGES):
        return module.split(".")[0]
    return "desk"


@dataclass(frozen=True)
class Edge:
    source: str  # importing module
    target: str  # imported project module
    line: int


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def edges() -> Iterator[Edge]:
    """Every import of a project module by a project module."""
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            src = module_name(path)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    # "from ioc import db" imports ioc.db; "from ioc.web import auth" imports ioc.web.auth
                    names = [f"{node.module}.{a.name}" if _is_module(f"{node.module}.{a.name}") else node.module
                             for a in node.names]
                else:
                    continue
                for name in names:
                    if name.split(".")[0] in PACKAGES:
                        yield Edge(src, name, node.lineno)


def _is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def area(module: str) -> str:
    """A readable unit for the graph in words: ``ioc.web``, ``ioc.tickets``, ``ioc.events``, ``streams`` …"""
    parts = module.split(".")
    if parts[0] != "ioc" or len(parts) == 1:
        return parts[0]
    return ".".join(parts[:2])


def graph() -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for e in edges():
        a, b = area(e.source), area(e.target)
        if a != b:
            out[a].add(b)
    return out


def main() -> int:
    g = graph()
    for a in sorted(g):
        print(f"{a} [{floor(a)}] imports: {', '.join(sorted(g[a]))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
