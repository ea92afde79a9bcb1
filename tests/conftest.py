"""Shared fixtures: a private ZSEARCH_HOME per test, and one real ingested database per session."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
PDFS = DATA / "pdfs"
SPECTER_QUERY = "document-level representation learning using citation-informed transformers"


@pytest.fixture(autouse=True)
def _private_home(tmp_path, tmp_path_factory, monkeypatch):
    """No test touches the user's real data or cache directory or inherits their settings.

    The cache (the ONNX export of the bundled model) is shared by the session: exported once.
    """
    monkeypatch.setenv("ZSEARCH_HOME", str(tmp_path / "zsearch-home"))
    monkeypatch.setenv("ZSEARCH_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "zsearch-cache"))
    for var in ("ZSEARCH_MODEL", "ZSEARCH_CONFIG", "ZSEARCH_REVIEW_DIR", "ZSEARCH_ENGINE"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def pdf_db(tmp_path_factory):
    """A real LanceDB with every test PDF ingested once (the unreadable ones fail).

    Returns ``(db_path, first_report)``. Tests that write must copy it (``copy_db``).
    """
    from zsearch.library import Library

    db = tmp_path_factory.mktemp("pdfdb") / "db"
    lib = Library.open(db)
    report = lib.ingest_pdfs([PDFS], ocr=False)  # the scans fail as before; tests/test_ocr.py reads them
    return db, report


@pytest.fixture
def copy_db(pdf_db, tmp_path):
    """A private, writable copy of the session database."""
    dst = tmp_path / "db-copy"
    shutil.copytree(pdf_db[0], dst)
    return dst


def scifact_records(n: int, start: int = 0) -> list[dict]:
    """``n`` SciFact records of tests/data/embed/scifact_sample.jsonl from line ``start`` on."""
    out = []
    with (DATA / "embed" / "scifact_sample.jsonl").open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i < start:
                continue
            out.append(json.loads(line))
            if len(out) == n:
                break
    return out


def scifact_sample(n: int) -> list[str]:
    """The first ``n`` SciFact records of tests/data/embed as "title\n\ntext"."""
    return [f"{rec['title']}\n\n{rec['text']}" for rec in scifact_records(n)]


def scifact_papers(n: int, start: int = 0, *, years: bool = False) -> list:
    """``n`` SciFact records from line ``start`` on as Papers (``beir:scifact:ID``); ``years``: each
    gets a year 2000-2019 by its line number (something for filters to pass or not)."""
    from zsearch.papers.model import Paper

    return [Paper(id=f"beir:scifact:{rec['_id']}", source="beir", title=rec["title"], abstract=rec["text"],
                  year=2000 + (start + i) % 20 if years else None)
            for i, rec in enumerate(scifact_records(n, start))]


def unit(x: np.ndarray) -> np.ndarray:
    """``x``'s rows (or ``x`` itself) at unit length."""
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run ``zsearch ARGS`` in-process; ``(exit code, stdout, stderr)``."""
    from zsearch.cli import main

    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err
