"""What every command shares: the app, its consoles and options, opening the case, and
turning the library's typed errors into one line on stderr and an exit status.

Data goes to stdout (tables on a terminal, `--format json|csv` for scripts);
progress and messages go to stderr. Exit status (contract §3): 0 ok, 1 error naming
the file/record/argument, 2 usage error, 3 nothing found — each `ir.errors.IrError`
carries its own.

Start-up: the command modules import typer, rich and the leaves at load; the library
(DuckDB, pandas, networkx, pyarrow, plotly, jinja) loads inside the commands that use it,
so `ir --help` and every command's argument parsing pay none of it (tests/test_startup.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from ir import render
from ir.errors import IrError

if TYPE_CHECKING:
    import pandas as pd

    from ir.case import Case

INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C
EXIT_STATUS = (
    "Exit status: 0 done; 1 error (the message names the file, record or argument);"
    " 2 usage error; 3 nothing found; 130 interrupted (Ctrl-C)."
)
# What an interrupted command leaves behind, where that needs saying.
AFTER_INTERRUPT = {
    "ingest": "the case holds the batches finished so far, re-run to complete",
    "forget": "nothing was forgotten (all or nothing), re-run to forget",
    "collect": "the pages written so far are in the case; run the same command again to resume",
}


class Commands(TyperGroup):
    """Every failure ends the command with one line on stderr and its exit status, never
    a traceback: the library's typed errors (their own status), files the system refuses
    (OSError), DuckDB errors (a damaged case file named as such), and Ctrl-C (130); a
    reader that closed stdout early (`| head`) ends it quietly."""

    case: Path | None = None  # the case the running command opened (see `opened`)

    def get_command(self, ctx: Any, name: str) -> Any:
        """Every command's help ends with the exit statuses, and lists flags without a type."""
        command = super().get_command(ctx, name)
        if command is not None:
            command.epilog = command.epilog or EXIT_STATUS
            _plain_flags(command.get_params(ctx))
        return command

    def get_params(self, ctx: Any) -> Any:
        params = super().get_params(ctx)
        _plain_flags(params)
        return params

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except IrError as error:
            raise fail(str(error), error.exit_code) from None
        except KeyboardInterrupt:
            raise _interrupted(ctx.invoked_subcommand) from None
        except RuntimeError as error:  # DuckDB stops a query at Ctrl-C with this
            if str(error) != "Query interrupted":
                raise
            raise _interrupted(ctx.invoked_subcommand) from None
        except BrokenPipeError:
            raise  # the reader closed stdout (`| head`): click ends quietly (status 1)
        except OSError as error:
            raise fail(_os_message(error)) from None
        except Exception as error:
            if not _from_duckdb(error):
                raise
            raise fail(_duckdb_message(error)) from None


def _from_duckdb(error: Exception) -> bool:
    """Whether DuckDB raised it (a command that never loaded DuckDB cannot have)."""
    duckdb = sys.modules.get("duckdb")
    return duckdb is not None and isinstance(error, duckdb.Error)


def _duckdb_message(error: Exception) -> str:
    """A damaged case file named as such; any other DuckDB error by its first line."""
    from ir.store import DAMAGE, damaged, first_line

    if DAMAGE.search(str(error)):
        return damaged(Commands.case or "the case file", error)
    return f"DuckDB: {first_line(error)}"


def _plain_flags(params: list[Any]) -> None:
    """A flag takes no value, so its help shows none (typer's would say `<bool>`)."""
    for param in params:
        if getattr(param, "is_flag", False):
            param.metavar = ""


def _interrupted(command: str | None) -> typer.Exit:
    after = AFTER_INTERRUPT.get(command or "")
    return fail(f"interrupted; {after}" if after else "interrupted", INTERRUPTED)


def _os_message(error: OSError) -> str:
    """`path: reason` as the system says it (no such file, permission denied, a folder)."""
    reason = error.strerror or type(error).__name__
    if error.filename is None:
        return f"{reason}"
    return f"{error.filename}: {reason}"


app = typer.Typer(
    name="ir",
    help="Trace a leaked token through audit logs: ingest, trace, timeline, contain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    cls=Commands,
)


def _print_version(asked: bool) -> None:
    if asked:
        sys.stdout.write(f"ir {metadata.version('ir')}\n")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print ir's version and exit."
        ),
    ] = False,
) -> None:
    """The options every command shares come before the command's name."""


# Piped output keeps wide tables readable; a terminal uses its own width.
stdout = Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 200)
stderr = Console(stderr=True, highlight=False)

CasePath = Annotated[
    Path,
    typer.Option(
        "--case",
        envvar="IR_CASE",
        help="Case file (default: $IR_CASE, else ./case.duckdb).",
        show_default=False,
    ),
]
Format = Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")]
TokenFile = Annotated[
    str | None,
    typer.Option("--token-file", help="A file holding the raw leaked token, or - for stdin."),
]
LeakedAt = Annotated[
    str | None,
    typer.Option("--leaked-at", help="Exposure time (ISO 8601); default: 24 h after first use."),
]
DEFAULT_CASE = Path("case.duckdb")


def fail(message: str, status: int = 1) -> typer.Exit:
    """Print one error line (terminal controls shown, not obeyed); the Exit to raise."""
    stderr.print(f"[bold red]error:[/] {escape(render.printable(message))}", soft_wrap=True)
    return typer.Exit(status)


@contextmanager
def opened(path: Path, read_only: bool = False) -> Iterator[Case]:
    """The case, waiting (with one line on stderr) while another process writes it."""
    from ir.case import open_case

    Commands.case = path
    case = open_case(
        path,
        read_only=read_only,
        lock_timeout=_lock_timeout(),
        on_wait=lambda message: stderr.print(escape(message), soft_wrap=True),
    )
    with case:
        yield case


@contextmanager
def existing(path: Path) -> Iterator[Case | None]:
    """`opened` read-only when the case exists; None when it does not (nothing in it yet)."""
    if not path.exists():
        yield None
        return
    with opened(path, read_only=True) as case:
        yield case


def _lock_timeout() -> float | None:
    text = os.environ.get("IR_LOCK_TIMEOUT")
    try:
        return None if text is None else float(text)
    except ValueError:
        raise fail(f"IR_LOCK_TIMEOUT={text}: give seconds, e.g. 120", 2) from None


@contextmanager
def output(out: Path | None) -> Iterator[TextIO]:
    """Where a command streams its output: stdout, or the `--out` file (missing folders
    created, a folder refused, written as given: no newline translation)."""
    if out is None:
        yield sys.stdout
        return
    if out.is_dir():
        raise fail(f"--out {out}: a folder; give a file name inside it", 2)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        yield handle
    stderr.print(f"wrote {escape(render.printable(str(out)))}", soft_wrap=True)


def check_format(fmt: str, allowed: tuple[str, ...] = render.FORMATS) -> None:
    if fmt not in allowed:
        raise fail(f"--format must be one of {', '.join(allowed)}", 2)


def show(frame: pd.DataFrame, fmt: str, title: str | None = None) -> None:
    """A DataFrame as a table on the terminal, or as json/csv on stdout."""
    if fmt == "table":
        stdout.print(render.table(frame, title))
    else:
        sys.stdout.write(render.frame_text(frame, fmt))
        if fmt == "json":
            sys.stdout.write("\n")


def read_token(token_file: str) -> str:
    """The raw token, in memory only. The argument is never repeated in a message: a
    responder may paste the token itself where its file name belongs."""
    try:
        data = sys.stdin.buffer.read() if token_file == "-" else Path(token_file).read_bytes()
        return data.decode("utf-8")
    except OSError as error:
        raise fail(
            f"--token-file: cannot read that file ({error.strerror}); give the path of a file"
            " holding the token, or - for stdin",
            2,
        ) from None
    except UnicodeDecodeError:
        raise fail(
            "--token-file: the token is not UTF-8 text (its bytes are not shown)", 2
        ) from None
