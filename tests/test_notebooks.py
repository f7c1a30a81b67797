"""The notebooks run top to bottom on a fresh case, and are committed without outputs.

Each notebook runs in nbclient with a kernel of this very Python: its kernelspec is
written to a temporary folder, so a user-level `python3` kernel pointing at another
interpreter cannot stand in. The working directory is the notebooks folder, as Jupyter
sets it, and TMPDIR is the test's temporary folder, so the cases the notebooks create
do not outlive the test.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
SAMPLE = ROOT / "sample_logs"
CELL_TIMEOUT = 180  # seconds per cell; the slowest (ingest + trace) takes a few
MAX_CELL_OUTPUT = 400_000  # characters of outputs one executed cell may produce (a PNG or two)
KERNEL = "ir-notebook-test"
# What each notebook must show when run on sample_logs/ (strings from its outputs).
EXPECTED = {
    "01_quickstart": [
        "163 files, 2000 events, 670 credentials, 0 duplicates",
        "ignored by",  # the leaked secrets and answer key, skipped by .irignore
        "aws_cloudtrail",
    ],
    "02_trace_a_leaked_token": [
        "['aws_access_key:AKIAB4QWZLKKE2GRC3WO']",
        "<h4>Trace of <code>aws_access_key:AKIAB4QWZLKKE2GRC3WO</code></h4>",
        "<h4>Trace of <code>github_token:kZ1jcZU2dh1UXZtsK0SVFhjzWxHrrnt4fcDSj24i8M8=</code></h4>",
        "okta_session:102hZRgCcFl742wO50iahAImd",  # a lead from the attacker's IP, outside the lineage
        "image/png",  # the lineage graph, drawn inline
    ],
    "03_breach_timeline": [
        "141 rows in timeline.csv, 141 in trace.timeline()",
        "timeline.jsonl",
        "report.html",
        "Breach report:",
        "image/png",  # the activity plot
        "01-aws-rotate_access_key",  # the playbook plan
        "iam:PutRolePolicy RoleName=Admin PolicyName=AWSRevokeOlderSessions",  # its dry run
    ],
}


def test_every_notebook_has_expectations() -> None:
    assert sorted(EXPECTED) == [path.stem for path in NOTEBOOKS]
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_committed_without_outputs(path: Path) -> None:
    """Stale outputs would show another run's data (and bloat the repository)."""
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert [(cell.id, cell.outputs, cell.execution_count) for cell in code] == [
        (cell.id, [], None) for cell in code
    ]
    assert notebook.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_uses_only_the_public_api(path: Path) -> None:
    """`import ir` and what it returns: no reaching into submodules or private names."""
    source = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
    assert re.findall(r"\bir\.\w+", source.replace("ir.open_case", "")) == []
    assert re.findall(r"(?:from|import) ir\b[.\w]*", source) == ["import ir"]
    assert re.findall(r"\._[a-z]\w*", source) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_top_to_bottom(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        km=kernel_manager(tmp_path / "kernels"),
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    outputs = [json.dumps(cell.get("outputs", [])) for cell in notebook.cells]
    text = "\n".join(outputs)
    assert [s for s in EXPECTED[path.stem] if s not in text] == []
    assert [len(o) for o in outputs if len(o) > MAX_CELL_OUTPUT] == []
    assert leaked_secret_names(text) == []  # names only: a failure must not print a secret


def kernel_manager(folder: Path) -> KernelManager:
    """A kernel running this interpreter (the project venv), whatever kernelspecs exist."""
    spec = folder / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "ir (tests)", "language": "python"})
    )
    return KernelManager(
        kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(folder)])
    )


def leaked_secret_names(text: str) -> list[str]:
    """Which of the sample's secrets appear in `text`, by name (the values stay here)."""
    secrets = {"leaked_github_token.txt": (SAMPLE / "leaked_github_token.txt").read_text().strip()}
    for line in (SAMPLE / "leaked_token.txt").read_text().splitlines():
        key, _, value = line.partition("=")
        if value.strip():
            secrets[f"leaked_token.txt {key.strip()}"] = value.strip()
    secret = secrets.pop("leaked_token.txt aws_access_key_id")  # an id: shown on purpose
    assert secret.startswith("AKIA")
    return sorted(name for name, value in secrets.items() if value in text)
