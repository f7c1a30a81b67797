"""Start-up: `ir --help` and a command's argument parsing load none of the heavy libraries.

Every command pays its imports before it does anything; the library (DuckDB, pandas,
networkx, pyarrow, plotly, jinja, httpx) loads inside the commands that use it. Checked
in a fresh interpreter, by what sits in `sys.modules` when the command exits (timings are
`make bench`'s business).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("pandas", "numpy", "duckdb", "networkx", "pyarrow", "plotly", "jinja2", "httpx", "boto3")
# Run the real app on `argv`, then name the heavy modules it loaded, even when it exits.
PROBE = """
import atexit, json, sys
atexit.register(lambda: sys.stderr.write(
    "\\nLOADED " + json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)) + "\\n"))
from ir.cli import app
app({argv!r}, prog_name="ir")
"""


def _loaded(*argv: str) -> tuple[list[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY, argv=list(argv))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    line = done.stderr.rsplit("LOADED ", 1)[1]
    return json.loads(line), done.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--version"],
        ["trace", "--help"],
        ["timeline", "--help"],
        ["ingest", "--help"],
        ["hunt", "--help"],
        ["playbook", "run", "--help"],
    ],
)
def test_help_loads_no_heavy_library(argv: list[str]) -> None:
    loaded, out = _loaded(*argv)
    assert loaded == [], f"ir {' '.join(argv)} loaded {loaded}"
    assert out.strip(), "printed nothing"


def test_help_still_lists_every_command() -> None:
    _, out = _loaded("--help")
    for command in ("ingest", "trace", "timeline", "hunt", "coverage", "playbook", "sql"):
        assert f" {command} " in out, command


def test_a_command_loads_the_library_when_it_runs(tmp_path: Path) -> None:
    loaded, _ = _loaded("kinds", "--case", str(tmp_path / "none.duckdb"), "--format", "json")
    assert "pandas" in loaded  # the lazy imports do run: the command did its work
