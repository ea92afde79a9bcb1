"""The ``zsearch`` command line: a thin typer shell over :class:`zsearch.Library`.

This package holds the app, the one error boundary (:func:`main`) and output helpers;
each area's commands live in their own module and register on ``app`` / ``ingest_app``
when imported at the bottom of this file. No heavy import (torch, lancedb,
sentence-transformers) happens at module level anywhere in this package, so
``zsearch --help`` stays instant.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from zsearch.errors import ZsearchError

app = typer.Typer(
    name="zsearch",
    help=(
        "Local literature search: ingest PDFs, arXiv and PubMed records; embed full papers; "
        "hybrid search, rerank, and cluster them into themes for systematic reviews.\n\n"
        "Data lives in --db PATH, else $ZSEARCH_HOME, else your user data directory."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
ingest_app = typer.Typer(
    help="Add papers to the database (PDF files and folders, arXiv, PubMed, bulk dumps).",
    no_args_is_help=True,
)
app.add_typer(ingest_app, name="ingest")

# Progress and logs go to stderr; stdout is kept for results so json/jsonl pipe cleanly.
# NO_COLOR is honoured by rich itself; no colours when stderr is not a terminal.
# emoji=False: ":100:" in a title is text, not an emoji code.
err = Console(stderr=True, highlight=False, emoji=False)
out = Console(highlight=False, emoji=False)

# C0/C1 control characters other than tab and newline: an ESC in a PDF's title must not
# drive the user's terminal (rich's Text strips only BEL, BS, VT, FF and CR).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(value: object, style: str = "") -> Text:
    """User data (a title, a query, a path, an error quoting them) as text rich never reads as markup.

    ``[/bold]``, ``[i]``, ``[18F]`` and ``[Treatment of sepsis in children].`` print as
    written; control characters print as U+FFFD. Every string that holds data a user or a
    source supplied goes through this (or :func:`line`) before it reaches a console.
    """
    return Text(_CONTROL.sub("\ufffd", str(value)), style=style)


def line(*parts: object) -> Text:
    """One output line from pieces: ``(text, style)`` pairs are our own styled words, anything else user data.

    >>> line(("error:", "bold red"), " no paper '[/x]'").plain
    "error: no paper '[/x]'"
    """
    text = Text()
    for p in parts:
        text.append_text(plain(p[0], p[1]) if isinstance(p, tuple) else plain(p))
    return text

DB_OPTION_HELP = "Database directory (default: $ZSEARCH_HOME, else the user data dir)."
FORMATS = ("table", "json", "jsonl", "csv")


def check_format(fmt: str, allowed: Sequence[str] = FORMATS) -> str:
    from zsearch.errors import UsageError

    if fmt not in allowed:
        raise UsageError(f"unknown format {fmt!r}; choose one of: {', '.join(allowed)}")
    return fmt


def write_records(records: Iterable[dict[str, Any]], fmt: str, *, columns: Sequence[str] | None = None) -> None:
    """Write dict records to stdout as json (one array), jsonl or csv."""
    rows = list(records)
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "jsonl":
        for r in rows:
            sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        cols = list(columns or (rows[0].keys() if rows else []))
        w = csv.DictWriter(sys.stdout, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({c: _csv_cell(r.get(c)) for c in cols})
    else:  # pragma: no cover - callers validate with check_format
        raise ValueError(fmt)
    sys.stdout.flush()


def _csv_cell(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return "; ".join(str(x) for x in v)
    if isinstance(v, dict):
        return json.dumps(v, ensure_ascii=False)
    return v


def show_progress() -> bool:
    """Progress bars only for a person at a terminal (not cron, not pipes, not NO_COLOR=dumb)."""
    return err.is_terminal and os.environ.get("TERM") != "dumb"


# Resources a command holds until it returns (the writer lock); main() releases them.
command_resources = contextlib.ExitStack()


def _click_exception_types() -> tuple[type, ...]:
    """Click's usage errors, from typer's vendored copy and/or click itself."""
    types: list[type] = []
    try:
        from typer._click import exceptions as vendored

        types += [getattr(vendored, n) for n in ("ClickException", "Abort") if hasattr(vendored, n)]
    except ImportError:  # older typer uses click directly
        pass
    try:
        import click

        types += [click.ClickException, click.Abort]
    except ImportError:
        pass
    return tuple(types)


@functools.cache
def _command() -> Any:
    """The click command typer builds from ``app`` (built once: ~0.1 s of signature reading per build)."""
    return typer.main.get_command(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point; the one error boundary: library errors become one clean line and an exit code."""
    # Model loading prints tqdm bars and tokenizer warnings of its own: our progress is enough.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    click_errors = _click_exception_types()
    try:
        with command_resources:
            rc = _command().main(args=argv, standalone_mode=False, prog_name="zsearch")
    except ZsearchError as exc:
        # the message often quotes user input (an id, a query, a path): never read it as markup
        err.print(line(("error:", "bold red"), f" {exc}"), soft_wrap=True, highlight=False)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("aborted", style="red")
        raise SystemExit(130) from None
    except typer.Exit as exc:  # typer raises this for --help and explicit exits
        raise SystemExit(exc.exit_code) from None
    except click_errors as exc:  # usage errors: missing argument, unknown option
        if hasattr(exc, "show"):
            exc.show()
            raise SystemExit(getattr(exc, "exit_code", 2)) from None
        err.print("aborted", style="red")
        raise SystemExit(130) from None
    # with standalone_mode=False click returns a command's typer.Exit code instead of exiting
    if isinstance(rc, int) and rc:
        raise SystemExit(rc)
    return 0


# Command modules register themselves on `app` / `ingest_app` when imported.
from zsearch.cli import (  # noqa: E402,F401
    core,
    evaluate,  # noqa: E402,F401  (the `eval` group: eval beir, eval clusters)
    manager,  # ingest zotero, ingest bibtex
    models,
    pipeline,
    review,
    serve,  # zsearch serve, serve stop, serve status; the CLI's client side of the service
    sources,
)
