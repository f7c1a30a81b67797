"""Imports run one way: store → parsers/ingest → analysis → outputs → face; providers →
playbooks/collectors. A static walk of every import in ir/ and parsers/ (lazy and
type-only ones included) checks each against the layers and looks for circles; a fresh
interpreter per lower module checks what really loads."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
# Lowest first. A module may import its own layer and those below; a prefix names a
# package and everything in it. The most specific prefix decides.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("leaf", ("ir.errors", "ir.credentials", "ir.sql", "ir.times", "ir.render")),
    ("store", ("ir.store", "ir.providers")),
    ("parsers", ("parsers",)),
    (
        "ingest",
        (
            "ir.formats",
            "ir.forget",
            "ir.ingest",
            "ir.evidence",
            "ir.export",
            "ir.synth",
            "ir.collectors",
        ),
    ),
    (
        "analysis",
        (
            "ir.graph",
            "ir.places",
            "ir.trace",
            "ir.contents",
            "ir.pivots",
            "ir.impact",
            "ir.hunt",
            "ir.coverage",
        ),
    ),
    ("outputs", ("ir.timeline", "ir.report", "ir.playbooks")),
    ("face", ("ir.case", "ir.display", "ir.cli", "ir")),
)
RANK = {prefix: rank for rank, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes}
LAYER_NAMES = [name for name, _ in LAYERS]


def _layer(module: str) -> int:
    parts = module.split(".")
    for length in range(len(parts), 0, -1):
        prefix = ".".join(parts[:length])
        if prefix in RANK:
            return RANK[prefix]
    raise AssertionError(f"{module}: in no layer; add it to LAYERS in tests/test_layers.py")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _ours(name: str) -> bool:
    return name == "ir" or name.startswith(("ir.", "parsers"))


def _imports(path: Path, known: set[str]) -> set[str]:
    """Every module of ours that `path` imports anywhere (functions, TYPE_CHECKING too);
    `from ir import trace` names the submodule ir.trace."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if _ours(alias.name))
        elif isinstance(node, ast.ImportFrom) and node.module and _ours(node.module):
            subs = {f"{node.module}.{alias.name}" for alias in node.names}
            found.update((subs & known) or {node.module})
    return found


def _graph() -> nx.DiGraph:
    files = [*ROOT.glob("ir/**/*.py"), *ROOT.glob("parsers/**/*.py")]
    known = {_module_name(path) for path in files}
    graph = nx.DiGraph()
    for path in files:
        module = _module_name(path)
        graph.add_node(module)
        graph.add_edges_from((module, imported) for imported in _imports(path, known))
    return graph


GRAPH = _graph()


def test_every_import_runs_down_the_layers() -> None:
    upward = [
        f"{module} ({LAYER_NAMES[_layer(module)]}) imports {imported}"
        f" ({LAYER_NAMES[_layer(imported)]})"
        for module, imported in GRAPH.edges
        if _layer(imported) > _layer(module)
    ]
    assert upward == []


def test_no_import_circle() -> None:
    circles = [cycle for cycle in nx.simple_cycles(GRAPH) if len(cycle) > 1]
    assert circles == []


def test_the_walk_sees_lazy_and_type_only_imports() -> None:
    # ir.case imports the display lazily nowhere now, but the package re-exports lazily:
    assert ("ir", "ir.case") in GRAPH.edges
    assert ("ir.timeline", "ir.trace") in GRAPH.edges  # under TYPE_CHECKING
    assert _layer("ir.playbooks.connectors.aws") == RANK["ir.playbooks"]


LOWER = sorted(m for m in GRAPH.nodes if _layer(m) < RANK["ir.case"] and m != "ir")


@pytest.mark.parametrize("module", LOWER)
def test_a_lower_module_loads_nothing_above_it(module: str) -> None:
    probe = (
        f"import sys, {module}; "
        "print('\\n'.join(m for m in sys.modules if m == 'ir' or m.startswith(('ir.', 'parsers'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    above = [m for m in loaded if m != "ir" and _layer(m) > _layer(module)]
    assert above == [], f"importing {module} loaded {above}"
