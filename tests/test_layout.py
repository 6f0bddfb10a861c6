"""The floor plan: one package per stage, no import circles, one stage order, a clean lint."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

from flows.run.stages import STAGES, markdown_table

FLOWS = ROOT / "flows"
PACKAGES = {"store", "study", "collect", "ingest", "embed", "topics", "coding", "people", "report", "export",
            "privacy", "run", "cli", "sample"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(path: Path, modules: set[str]) -> set[str]:
    """The flows modules ``path`` imports when it runs (anywhere in it; not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
               and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING" for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in found if m in modules}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_at_most_eight_top_level_modules_and_a_package_per_stage():
    top = sorted(p.name for p in FLOWS.glob("*.py"))
    assert len(top) <= 8, top
    assert {p.name for p in FLOWS.iterdir() if (p / "__init__.py").exists()} >= PACKAGES


def test_no_import_circles():
    files = {module_name(p): p for p in FLOWS.rglob("*.py")}
    graph = {m: runtime_imports(p, set(files)) - {m} for m, p in files.items()}
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_package_inits_import_nothing_of_their_stage():
    """Importing a settings module must not drag a whole stage in (nor make circles)."""
    for init in FLOWS.glob("*/__init__.py"):
        if init.parent.name == "cli":  # registering the commands is what importing flows.cli is for
            continue
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert not [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))], init


def test_the_stage_order_is_written_once():
    names = [stage.name for stage in STAGES]
    assert names == ["collect", "ingest", "embed", "topics", "code", "people", "report", "export"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- stages -->\n", 1)[1].split("\n<!-- /stages -->", 1)[0]
    assert table == markdown_table(), "README's stage table is stale: paste `python -m flows.run.stages`"
    from flows.cli.run import run

    assert " → ".join(names) in run.__doc__.splitlines()[0]


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    done = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
