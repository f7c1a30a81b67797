"""The `ir` command line: parse arguments, call the library, render. Nothing else.

One module per command group registers its commands on the shared app
(`ir.cli.common`); the imports below are the registry, and their order is the order
`ir --help` lists the commands in: evidence in, what the case holds, hunting and tracing,
practice.
"""
# isort: skip_file

from ir.cli.common import app
from ir.cli import evidence, collect, contents, coverage, trace, impact, hunt, playbook, synth

app.add_typer(playbook.app, name="playbook")

__all__ = [
    "app",
    "collect",
    "contents",
    "coverage",
    "evidence",
    "hunt",
    "impact",
    "playbook",
    "synth",
    "trace",
]
