"""Reference-manager commands: ``ingest zotero`` and ``ingest bibtex``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from zsearch.cli import DB_OPTION_HELP, check_format, ingest_app
from zsearch.cli.core import open_library, progress_bar
from zsearch.cli.sources import FORMAT_HELP, _finish


@ingest_app.command("zotero")
def ingest_zotero(
    data_dir: Optional[Path] = typer.Argument(None, help="Zotero's data directory (default: ~/Zotero)."),
    collection: Optional[list[str]] = typer.Option(None, "--collection", help="Only items in this collection (repeatable; 'Parent/Child' for a subcollection)."),
    tag: Optional[list[str]] = typer.Option(None, "--tag", help="Only items with this tag (repeatable)."),
    full: bool = typer.Option(False, "--all", help="Read every item, not only those modified since the last run."),
    sync_deletions: bool = typer.Option(False, "--sync-deletions", help="Withdraw papers whose Zotero item was deleted or trashed."),
    attachments_base: Optional[Path] = typer.Option(None, "--attachments-base", help="Zotero's Linked Attachment Base Directory (for 'attachments:' links)."),
    no_pdf: bool = typer.Option(False, "--no-pdf", help="Store metadata only; do not read attached PDFs."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_OPTION_HELP),
    fmt: str = typer.Option("table", "--format", help=FORMAT_HELP),
) -> None:
    """Ingest your Zotero library: items with their metadata, tags, collections and PDFs.

    Zotero may keep running: zsearch reads a private copy of zotero.sqlite, never the file
    Zotero holds. Each paper links back to its item (zotero://select/library/items/KEY, in
    `zsearch show`). A second run reads only items modified since the first; an attached PDF
    missing on disk is named and its item stored from its metadata.

    Example: zsearch ingest zotero ~/Zotero --collection "Thesis/Chapter 2" --sync-deletions
    """
    check_format(fmt, ("table", "json"))
    lib = open_library(db, lock="zsearch ingest zotero")
    with progress_bar("ingest zotero", None, unit="items") as advance:
        report = lib.ingest_zotero(data_dir, collections=collection or (), tags=tag or (), full=full,
                                   sync_deletions=sync_deletions, attachments_base=attachments_base,
                                   read_pdfs=not no_pdf, progress=advance)
    _finish(report, fmt)


@ingest_app.command("bibtex")
def ingest_bibtex(
    file: Path = typer.Argument(..., help="A .bib file (Better BibTeX, JabRef, Zotero or Mendeley export)."),
    no_pdf: bool = typer.Option(False, "--no-pdf", help="Store metadata only; do not read PDFs named in `file` fields."),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_OPTION_HELP),
    fmt: str = typer.Option("table", "--format", help=FORMAT_HELP),
) -> None:
    """Ingest a BibTeX file: every entry from its metadata, in full where a `file` field names a PDF.

    An entry that fails to parse is named (FILE:LINE) and skipped; the rest are stored.

    Example: zsearch ingest bibtex ~/papers/library.bib
    """
    check_format(fmt, ("table", "json"))
    lib = open_library(db, lock="zsearch ingest bibtex")
    with progress_bar("ingest bibtex", None, unit="entries") as advance:
        report = lib.ingest_bibtex(file, read_pdfs=not no_pdf, progress=advance)
    _finish(report, fmt)
