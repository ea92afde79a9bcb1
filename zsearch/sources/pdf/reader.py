"""The PDF source: a Paper per local PDF file (text in reading order plus front matter).

This is what ingest calls. The steps live next door: :mod:`~zsearch.sources.pdf.layout`
(page geometry, reading order), :mod:`~zsearch.sources.pdf.text` (text repair) and
:mod:`~zsearch.sources.pdf.metadata` (title, authors, abstract, identifiers, year).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from zsearch.errors import NotFound, RecordError
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
              ocr: bool = True) -> Iterator[Paper | RecordError | Unchanged]:
    """A :class:`Paper` per readable PDF under ``paths``, a :class:`RecordError` per bad one.

    ``unchanged(path, sha256)``: whether the store already holds this file with these bytes;
    such a file yields :class:`Unchanged` without its layout being parsed (the costly part).
    Never stops the batch for one file; a path that does not exist raises :class:`NotFound`.
    ``ocr``: see :func:`read_pdf`; a page OCR could not read yields a RecordError before its paper.
    """
    for p in iter_pdf_paths(paths):
        try:
            path = p.resolve()
            data = read_bytes(path)
            if unchanged is not None and unchanged(str(path), hashlib.sha256(data).hexdigest()):
                yield Unchanged(str(path))
                continue
            warnings: list[RecordError] = []
            paper = read_pdf(path, data, ocr=ocr, warnings=warnings)
            yield from warnings
            yield paper
        except RecordError as exc:
            yield exc
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
            yield RecordError(
                f"not a readable PDF: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                record=str(Path(p).resolve()),
            )
