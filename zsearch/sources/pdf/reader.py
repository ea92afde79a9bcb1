"""The PDF source: a Paper per local PDF file (text in reading order plus front matter).

This is what ingest calls. The steps live next door: :mod:`~zsearch.sources.pdf.layout`
(page geometry, reading order), :mod:`~zsearch.sources.pdf.text` (text repair) and
:mod:`~zsearch.sources.pdf.metadata` (title, authors, abstract, identifiers, year).
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from zsearch.errors import NotFound, RecordError
from zsearch.faults import fault_point
from zsearch.papers.identity import canonical_id
from zsearch.papers.model import Paper, Unchanged
from zsearch.sources.pdf.layout import read_layout
from zsearch.sources.pdf.metadata import paper_metadata
from zsearch.sources.pdf.ocr import no_text_reason, ocr_extra, page_warnings, with_ocr
from zsearch.sources.pdf.text import blocks_text

# Pages with fewer characters than this on average count as having no text layer: a
# scanned page often carries a few characters of stamps or page numbers.
MIN_CHARS_PER_PAGE = 40


# -- paths ---------------------------------------------------------------------------------
def iter_pdf_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Yield the PDF files named by ``paths``: files as given, folders searched recursively.

    Files in a folder come sorted by path; ``*.pdf`` matches in any case. A path that does not
    exist raises :class:`NotFound` before anything is yielded for it.
    """
    for raw in paths:
        p = Path(raw).expanduser()
        if not p.exists():
            raise NotFound(f"no such file or folder: {raw}")
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() == ".pdf")
        else:
            yield p


# -- papers --------------------------------------------------------------------------------
def read_bytes(path: Path) -> bytes:
    """A PDF file's bytes; RecordError for an unreadable or empty file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordError(f"cannot read file: {exc.strerror or exc}", record=str(path)) from exc
    if not data:
        raise RecordError("empty file (0 bytes)", record=str(path))
    return data


def read_pdf(path: str | Path, data: bytes | None = None, *, ocr: bool = True,
             warnings: list[RecordError] | None = None) -> Paper:
    """Read one PDF into a :class:`Paper` (full text in reading order plus front matter).

    Raises :class:`RecordError` (``.record`` is the path) for a file that is not a readable
    PDF, is encrypted, or has no text layer. ``data``: the file's bytes, when already read.
    ``ocr``: read pages without text with Tesseract when it is installed (:mod:`.ocr`);
    a page it cannot read is appended to ``warnings`` and the paper keeps its other pages.
    """
    path = Path(path).resolve()
    if data is None:
        data = read_bytes(path)
    layout = read_layout(path)
    layout, ocr_report = with_ocr(path, layout, MIN_CHARS_PER_PAGE) if ocr else (layout, None)
    chars = sum(len(ln.text) for page in layout.pages for b in page for ln in b.lines)
    chars += sum(len(b.text) for b in layout.dropped)
    if chars < MIN_CHARS_PER_PAGE * len(layout.pages):
        raise RecordError(no_text_reason(ocr, ocr_report), record=str(path))
    if ocr_report is not None and warnings is not None:
        warnings += [RecordError(w, record=str(path)) for w in page_warnings(ocr_report)]
    full_text = blocks_text(layout.pages)
    md = paper_metadata(layout)
    sha = hashlib.sha256(data).hexdigest()
    return Paper(
        id=canonical_id(arxiv_id=md["arxiv_id"], doi=md["doi"], sha256=sha),
        source="pdf",
        title=md["title"] or path.stem,
        abstract=md["abstract"],
        authors=md["authors"],
        year=md["year"],
        doi=md["doi"],
        arxiv_id=md["arxiv_id"],
        url=f"https://arxiv.org/abs/{md['arxiv_id']}"
        if md["arxiv_id"]
        else (f"https://doi.org/{md['doi']}" if md["doi"] else None),
        path=str(path),
        full_text=full_text,
        extra={"pages": len(layout.pages), "file_sha256": sha, **(ocr_extra(ocr_report) if ocr_report else {})},
    )


def iter_pdfs(paths: Iterable[str | Path],
              unchanged: Callable[[str, str], bool] | None = None, *,
              ocr: bool = True, workers: int | None = None) -> Iterator[Paper | RecordError | Unchanged]:
    """A :class:`Paper` per readable PDF under ``paths``, a :class:`RecordError` per bad one.

    ``unchanged(path, sha256)``: whether the store already holds this file with these bytes;
    such a file yields :class:`Unchanged` without its layout being parsed (the costly part).
    Never stops the batch for one file; a path that does not exist raises :class:`NotFound`.
    ``ocr``: see :func:`read_pdf`; a page OCR could not read yields a RecordError before its paper.

    ``workers``: processes that parse side by side (default :func:`parse_workers`), so the
    model embeds one batch while the next is parsed; results come in path order, at most
    :data:`AHEAD` files per worker ahead of the consumer (memory stays flat). A file that
    crashes its worker (a segfault in the PDF library) is a RecordError; the rest go on.
    """
    jobs = (_prepare(p, unchanged) for p in iter_pdf_paths(paths))
    n = parse_workers() if workers is None else workers
    yield from (_parse_in_pool(jobs, n, ocr) if n > 0 else _in_process(jobs, ocr))


# Files parsed ahead of the consumer per worker process: enough to keep a worker busy while the
# previous result is embedded, few enough that parsed full texts never pile up.
AHEAD = 2
# PDFs in one ingest below which no worker process is started (spawning one costs ~1 s).
MIN_FILES_FOR_WORKERS = 3


def parse_workers() -> int:
    """Parser processes: ``$ZSEARCH_PDF_WORKERS`` (0: parse in this process), else one per
    core beyond the one the model and writes use, at most 4 (PyMuPDF is single-threaded)."""
    env = os.environ.get("ZSEARCH_PDF_WORKERS", "").strip()
    if env.isdigit():
        return int(env)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores - 1))


def _prepare(p: Path, unchanged: Callable[[str, str], bool] | None) -> list[Paper | RecordError | Unchanged] | tuple[Path, bytes]:
    """What needs no parsing (an unchanged or unreadable file: its items), else ``(path, bytes)``."""
    try:
        path = p.resolve()
        data = read_bytes(path)
    except RecordError as exc:
        return [exc]
    if unchanged is not None and unchanged(str(path), hashlib.sha256(data).hexdigest()):
        return [Unchanged(str(path))]
    return path, data


def _parse(path: Path, data: bytes, ocr: bool) -> list[Paper | RecordError | Unchanged]:
    """One file's items: its page warnings then its paper, or one RecordError (runs in a worker)."""
    fault_point("pdf-parse", name=path.name, worker_only=True)  # tests/test_pdf.py
    try:
        warnings: list[RecordError] = []
        paper = read_pdf(path, data, ocr=ocr, warnings=warnings)
        return [*warnings, paper]
    except RecordError as exc:
        return [exc]
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        first = str(exc).splitlines()[0] if str(exc) else ""
        return [RecordError(f"not a readable PDF: {type(exc).__name__}: {first}", record=str(path))]


def _in_process(jobs: Iterable[Any], ocr: bool) -> Iterator[Paper | RecordError | Unchanged]:
    """Each job's items, parsed here, one file after the other."""
    for job in jobs:
        yield from (job if isinstance(job, list) else _parse(*job, ocr))


def _parse_in_pool(jobs: Iterator[Any], n: int, ocr: bool) -> Iterator[Paper | RecordError | Unchanged]:
    """:func:`_parse` of each job in ``n`` spawned processes, yielded in job order."""
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    first = list(itertools.islice(jobs, MIN_FILES_FOR_WORKERS))
    if sum(not isinstance(j, list) for j in first) < MIN_FILES_FOR_WORKERS:
        yield from _in_process(itertools.chain(first, jobs), ocr)  # a few files: not worth a process
        return
    jobs = itertools.chain(first, jobs)
    # spawn, not fork: this process already runs ONNX Runtime's and LanceDB's threads
    ctx = multiprocessing.get_context("spawn")

    def pool_of(k: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=k, mp_context=ctx, initializer=_die_with_parent)

    pool = pool_of(n)
    pending: deque[tuple[Any, Any]] = deque()  # (job, its future or None when it needs no parse)
    try:
        while True:
            while len(pending) < n * AHEAD:
                job = next(jobs, None)
                if job is None:
                    break
                pending.append((job, None if isinstance(job, list) else pool.submit(_parse, *job, ocr)))
            if not pending:
                return
            job, fut = pending.popleft()
            if fut is None:
                yield from job
                continue
            try:
                yield from fut.result()
            except BrokenProcessPool:
                # a worker died (a crash in the PDF library): this file is read again alone in a
                # fresh process (a RecordError only if it is the culprit), the ones in flight
                # with it go to a fresh pool (a culprit among them breaks it and comes here too)
                pool.shutdown(wait=True, cancel_futures=True)
                yield from _parse_alone(job, ocr, pool_of)
                pool = pool_of(n)
                pending = deque((j, None if f is None else pool.submit(_parse, *j, ocr)) for j, f in pending)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _die_with_parent() -> None:
    """In a parser worker: be killed when the ingesting process dies (Linux ``PR_SET_PDEATHSIG``).

    Otherwise a killed ingest (a crash, kill -9, the crash tests) leaves its workers and their
    copies of its stdout and stderr behind, and whoever reads those pipes waits forever.
    """
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() == 1:  # the parent died before the line above: go too
        os._exit(1)


def _parse_alone(job: tuple[Path, bytes], ocr: bool, pool_of: Callable[[int], Any]) -> list[Paper | RecordError | Unchanged]:
    """:func:`_parse` of one file in a process of its own; a RecordError when that process dies."""
    from concurrent.futures.process import BrokenProcessPool

    pool = pool_of(1)
    try:
        return pool.submit(_parse, *job, ocr).result()
    except BrokenProcessPool:
        return [RecordError("the PDF reader crashed on this file", record=str(job[0]))]
    finally:
        pool.shutdown(wait=True)
