"""The package's layout: no import cycles, and every module imports on its own, in any order.

The import graph is read from the source (every ``import``, also those inside functions and under
``TYPE_CHECKING``), so a cycle is found even when it only bites at run time or in a type checker.
"""

from __future__ import annotations

import ast
import random
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "unison_agent"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The modules of the package that ``name`` imports. ``from a import b`` counts ``a.b`` when it is a module, and
    ``a`` itself when ``a`` is a package: the names are read from its ``__init__``, which may still be running
    when the import happens (the cycle ``tools -> run -> generation -> tools`` went through one)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in MODULES else base)
            if base in MODULES and MODULES[base].name == "__init__.py":
                out.add(base)
    return {m for m in out if m in MODULES and m != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle_it_is_given() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_of_the_package_is_in_an_import_cycle() -> None:
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    assert _cycles(graph) == []


def test_dependencies_point_one_way_between_the_layers() -> None:
    """DESIGN.md: ``cli, mcp_server, graphs -> tools -> planning, sessions -> media, spec``; errors and spec
    import nothing of ours; planning never imports the tools, the planner models, the graphs or the servers."""
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    for name in ("unison_agent.errors", "unison_agent.spec"):
        assert graph[name] <= {"unison_agent"}, (name, graph[name])
    upper = ("unison_agent.tools", "unison_agent.planners", "unison_agent.graphs", "unison_agent.mcp_server")
    for name, deps in graph.items():
        if name.startswith("unison_agent.planning"):
            assert not [d for d in deps if d.startswith(upper) or d == "unison_agent.cli"], name
        if name.startswith("unison_agent.tools"):
            assert not [d for d in deps if d.startswith(upper[2:]) or d == "unison_agent.cli"], name


@pytest.mark.slow
def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    failed = []
    for name in MODULES:
        done = subprocess.run([sys.executable, "-c", code, name], capture_output=True, text=True, timeout=120)
        if done.returncode:
            failed.append(f"{name}: {done.stderr.strip().splitlines()[-1]}")
    assert failed == []


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_module_imports_in_any_order(seed: int) -> None:
    names = sorted(MODULES)
    random.Random(seed).shuffle(names)
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    done = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
