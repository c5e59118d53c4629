"""The direction of imports between veille's four packages, read from the source.

- the kernel (configuration, errors, URL and text helpers, status names) imports
  nothing else of ours: everyone may import it;
- matchers/ and storage/ import only the kernel (and themselves);
- collectors/ import the kernel and matchers/ (text folding), never storage/;
- the application layer (the rest of veille/) imports anything below it;
- only the command line imports the command modules, nothing imports
  ``veille.cli``, and only the commands (and the coming web server) import the
  wiring in ``veille.app``.

Every import counts for the direction, including those inside functions and under
TYPE_CHECKING: a new arrow the wrong way fails here with the file and line that
drew it. Cycles are looked for among the imports made at run time.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("veille", "collectors", "matchers", "storage")
KERNEL = {
    "veille",
    "veille.config",
    "veille.errors",
    "veille.sanitize",
    "veille.statuses",
    "veille.urls",
}


@dataclass(frozen=True)
class Arrow:
    source: str  # the importing module
    target: str  # the imported module (ours)
    where: str  # file:line
    typing_only: bool = False  # under ``if TYPE_CHECKING:``: no import at run time

    def __str__(self) -> str:
        return f"{self.where}: {self.source} → {self.target}"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


def arrows() -> Iterator[Arrow]:
    known = modules()
    for source, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = source if path.name == "__init__.py" else source.rpartition(".")[0]
        typing_only = {
            id(inner)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
            for inner in ast.walk(block)
        }
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the package, going up level - 1
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # ``from package import module`` imports the module itself
                names = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                    for alias in node.names
                ]
            for name in names:
                target = name
                while target and target not in known:  # a.b.c → the module a.b
                    target = target.rpartition(".")[0]
                if target and target != source:
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    yield Arrow(source, target, where, id(node) in typing_only)


def layer(module: str) -> str:
    if module in KERNEL:
        return "kernel"
    return module.split(".")[0] if module.split(".")[0] != "veille" else "application"


ALLOWED = {
    "kernel": {"kernel"},
    "matchers": {"kernel", "matchers"},
    "storage": {"kernel", "storage"},
    "collectors": {"kernel", "matchers", "collectors"},
    "application": {"kernel", "matchers", "storage", "collectors", "application"},
}


def wrong_way(arrow: Arrow) -> str | None:
    """Why ``arrow`` breaks the layering, or None."""
    source, target = layer(arrow.source), layer(arrow.target)
    if target not in ALLOWED[source]:
        return f"{source} ne doit pas importer {target}"
    if arrow.target == "veille.cli" and arrow.source != "veille.__main__":
        return "rien n'importe veille.cli (le point d'entrée)"
    if arrow.target.startswith("veille.commands") and not (
        arrow.source == "veille.cli" or arrow.source.startswith("veille.commands")
    ):
        return "seul veille.cli importe les modules de commandes"
    if arrow.target == "veille.app" and not arrow.source.startswith(
        ("veille.commands", "veille.web")
    ):
        return "seuls les commandes et le serveur web importent le câblage veille.app"
    return None


def test_imports_point_one_way() -> None:
    found = list(arrows())
    assert len(found) > 50  # the walk sees the code
    broken = [f"{arrow} ({why})" for arrow in found if (why := wrong_way(arrow))]
    assert not broken, "\n".join(broken)


def test_there_is_no_import_cycle() -> None:
    """At run time: an annotation may name a type of a module that imports this one."""
    graph: dict[str, set[str]] = {}
    for arrow in arrows():
        if not arrow.typing_only:
            graph.setdefault(arrow.source, set()).add(arrow.target)
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for target in sorted(graph.get(module, ())):
            cycle = visit(target, [*path, module])
            if cycle:
                return cycle
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module, [])
        assert cycle is None, " → ".join(cycle or ())


@pytest.mark.parametrize(
    ("source", "target", "broken"),
    [
        ("storage.store", "collectors.robots", True),
        ("collectors.feed", "storage.store", True),
        ("storage.db", "veille.pipeline", True),
        ("matchers.brand", "collectors.text", True),
        ("veille.config", "storage.db", True),
        ("veille.pipeline", "veille.cli", True),
        ("veille.pipeline", "veille.app", True),
        ("veille.pipeline", "veille.commands.check", True),
        ("collectors.page", "matchers.normalize", False),
        ("veille.pipeline", "storage.store", False),
        ("veille.commands.check", "veille.app", False),
        ("storage.store", "veille.errors", False),
    ],
)
def test_the_rule_itself(source: str, target: str, broken: bool) -> None:
    assert (wrong_way(Arrow(source, target, "x.py:1")) is not None) is broken
