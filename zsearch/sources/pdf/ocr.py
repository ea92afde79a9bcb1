"""OCR for PDF pages without a text layer: Tesseract reads them, their words become a hidden text layer.

Only the pages that the reader found (nearly) without text are rendered and sent to the
``tesseract`` command (one process per page, run side by side). Its words, with their boxes,
are written as invisible text onto those pages of a temporary copy of the PDF, the way
ocrmypdf makes a "sandwich" PDF; :func:`~zsearch.sources.pdf.layout.read_layout` then reads
the copy, so scanned pages get the same columns, running heads and hyphen repair as born-digital
ones. The file itself is never changed.

Running Tesseract on one page, and why its command rather than PyMuPDF's built-in OCR, is
:mod:`zsearch.sources.pdf.tesseract`.

``pymupdf`` is imported inside the functions that use it (see ``layout.import_pymupdf``).
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zsearch.sources.pdf.layout import PdfText, import_pymupdf, read_layout
from zsearch.sources.pdf.tesseract import OcrFailed, OcrLine, first_line, recognise, tesseract

# Resolution pages are rendered at for Tesseract. Tesseract's documentation asks for at
# least 300 dpi; the shared scans gave their lowest error at 150-300 (docs/pdf.md). A page
# whose scan is coarser than this is rendered at the scan's own resolution (upsampling
# adds no detail and only costs time), but never below MIN_DPI.
DPI = 300
MIN_DPI = 150
# Largest image handed to Tesseract (pixels): an A4 page at 600 dpi is 35 Mpx. A poster-sized
# page is rendered at a lower resolution instead of exhausting memory.
MAX_PIXELS = 40_000_000
# A page whose 40 dpi rendering has fewer pixels darker than INK_LEVEL (of 255) than this
# fraction is blank: nothing to read, and not worth naming (the back of a title page). A
# page of text has 10-35%, one line of text about 0.5%.
BLANK_INK = 0.001
INK_LEVEL = 200
OCR_FONT = "zsearch-ocr"  # resource name of the hidden text's font on an OCR'd page

log = logging.getLogger(__name__)

INSTALL_HINT = "apt-get install tesseract-ocr / brew install tesseract"


class _StderrLines(logging.Handler):
    """Plain progress lines on the current ``sys.stderr``, when the application set up no logging."""

    def emit(self, record: logging.LogRecord) -> None:
        if logging.getLogger().handlers:  # the application logs: leave it to its handlers
            return
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - progress must never stop an ingest
            self.handleError(record)


if not log.handlers:
    _handler = _StderrLines(logging.INFO)
    _handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)


# -- rendering ------------------------------------------------------------------------------
def page_dpi(page: Any) -> int:
    """Resolution to render ``page`` at: :data:`DPI`, or the scan's own when coarser (>= MIN_DPI)."""
    w_in, h_in = page.rect.width / 72, page.rect.height / 72
    native = 0.0
    try:
        for info in page.get_image_info():
            bw = (info["bbox"][2] - info["bbox"][0]) / 72
            if bw > 0.5 * w_in and info.get("width"):  # an image covering most of the page: the scan
                native = max(native, info["width"] / bw)
    except Exception:  # noqa: BLE001 - a damaged image list only loses the hint
        native = 0.0
    dpi = min(DPI, native) if native else DPI
    dpi = max(dpi, MIN_DPI)
    if w_in * h_in * dpi * dpi > MAX_PIXELS:
        dpi = (MAX_PIXELS / (w_in * h_in)) ** 0.5
    return int(dpi)


def is_blank(page: Any) -> bool:
    """Whether the page shows (almost) no ink, judged from a 40 dpi rendering."""
    pymupdf = import_pymupdf()
    samples = page.get_pixmap(dpi=40, colorspace=pymupdf.csGRAY).samples
    dark = len(samples) - len(samples.translate(None, bytes(range(INK_LEVEL))))
    return dark < BLANK_INK * max(len(samples), 1)


# -- the text layer -------------------------------------------------------------------------
def _font_sizes(lines: list[OcrLine]) -> dict[str, float]:
    """One type size per Tesseract paragraph (points): the median of its lines', to half a point."""
    by_par: dict[str, list[float]] = {}
    for ln in lines:
        by_par.setdefault(ln.paragraph, []).append(ln.size)
    return {k: max(1.0, round(sorted(v)[len(v) // 2] * 2) / 2) for k, v in by_par.items()}


@functools.lru_cache(maxsize=1)
def _font() -> Any:
    """The font of the hidden text: MuPDF's built-in sans (Nimbus Sans), embedded with Unicode.

    PDF's standard Helvetica would only carry Latin-1 (curly quotes, dashes and Greek would
    come back as dots); an embedded font maps every glyph back to its character.
    """
    return import_pymupdf().Font("helv")


def write_text_layer(page: Any, lines: list[OcrLine]) -> None:
    """Write ``lines`` on ``page`` as invisible text that covers each line's box.

    The width is fitted by a horizontal scale; the type size is chosen so that MuPDF reports
    the paragraph's size (it reports ``size * sqrt(horizontal scale)``), so a paragraph's
    lines share one size, as the layout step expects.
    """
    pymupdf = import_pymupdf()
    if page.rotation:
        # The words' boxes are in the page as shown (turned upright). Text extraction reports
        # the unrotated page, and the layout step reads only horizontal lines there; this copy
        # serves text extraction alone, so its page becomes the shown one, unturned.
        shown = page.rect
        page.set_rotation(0)
        page.set_mediabox(pymupdf.Rect(0, 0, shown.width, shown.height))
    font = _font()
    page.insert_font(fontname=OCR_FONT, fontbuffer=font.buffer)
    sizes = _font_sizes(lines)
    for ln in lines:
        size = sizes[ln.paragraph]
        natural = font.text_length(ln.text, fontsize=size)
        width = ln.bbox[2] - ln.bbox[0]
        sx = min(max((width / natural) ** 2, 0.25), 4.0) if natural > 0 and width > 0 else 1.0
        origin = pymupdf.Point(ln.bbox[0], ln.baseline)
        page.insert_text(origin, ln.text, fontsize=size / sx**0.5, fontname=OCR_FONT, render_mode=3,
                         morph=(origin, pymupdf.Matrix(sx, 1)))


# -- a document -----------------------------------------------------------------------------
@dataclass
class OcrReport:
    """What OCR did to one file: pages given text, pages it could not read (1-based), time."""

    pages: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0


def pages_without_text(layout: PdfText, min_chars: int) -> list[int]:
    """Indexes (0-based) of the pages with fewer than ``min_chars`` characters of text."""
    chars = [0] * len(layout.pages)
    for i, blocks in enumerate(layout.pages):
        chars[i] += sum(len(ln.text) for b in blocks for ln in b.lines)
    for b in layout.dropped:
        if 0 <= b.page < len(chars):
            chars[b.page] += len(b.text)
    return [i for i, n in enumerate(chars) if n < min_chars]


def ocr_pages(path: Path, pages: list[int], out: Path, exe: str,
              workers: int | None = None) -> OcrReport:
    """Write a copy of ``path`` to ``out`` whose ``pages`` (0-based) carry an OCR text layer.

    Blank pages are skipped; a page Tesseract cannot read keeps no text and is listed in
    ``failed`` with its reason. Pages are rendered here, one at a time, and recognised by up
    to ``workers`` Tesseract processes at once (default: one per CPU core).
    """
    pymupdf = import_pymupdf()
    report = OcrReport()
    t0 = time.perf_counter()
    # at most 8 at once: a Tesseract process reading an A4 page at 300 dpi peaks at about 150 MiB
    workers = workers or max(1, min(os.cpu_count() or 1, 8))
    doc = pymupdf.open(path, filetype="pdf")
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            jobs = []
            for i in pages:
                page = doc[i]
                try:
                    if is_blank(page):
                        continue
                    dpi = page_dpi(page)
                    png = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY).tobytes("png")
                except Exception as exc:  # noqa: BLE001 - one bad page must not stop the file
                    report.failed.append((i + 1, f"cannot render it: {first_line(exc)}"))
                    continue
                jobs.append((i, pool.submit(recognise, png, 72 / dpi, exe)))
                if len(jobs) >= 2 * workers:  # bound the images held in memory
                    _collect(doc, jobs[:1], report)
                    jobs = jobs[1:]
            _collect(doc, jobs, report)
        report.pages.sort()
        report.failed.sort()
        doc.save(out, garbage=0, deflate=False)
    finally:
        doc.close()
    report.seconds = time.perf_counter() - t0
    return report


def _collect(doc: Any, jobs: list[tuple[int, Any]], report: OcrReport) -> None:
    for i, job in jobs:
        try:
            lines = job.result()
        except OcrFailed as exc:
            report.failed.append((i + 1, str(exc)))
            continue
        if not lines:
            report.failed.append((i + 1, "Tesseract found no text on it"))
            continue
        try:
            write_text_layer(doc[i], lines)
        except Exception as exc:  # noqa: BLE001 - one bad page must not stop the file
            report.failed.append((i + 1, f"cannot write its text: {first_line(exc)}"))
            continue
        report.pages.append(i + 1)


def with_ocr(path: Path, layout: PdfText, min_chars: int) -> tuple[PdfText, OcrReport]:
    """``layout`` with its pages that have no text read by OCR (when Tesseract is installed).

    Returns the new layout (read from a temporary OCR'd copy; ``layout`` itself when nothing
    was OCR'd) and the :class:`OcrReport`. One line per OCR'd file goes to the log (stderr
    unless the application set up logging).
    """
    exe = tesseract()
    bare = pages_without_text(layout, min_chars)
    if not bare or exe is None:
        return layout, OcrReport()
    with tempfile.TemporaryDirectory(prefix="zsearch-ocr-") as tmp:
        copy = Path(tmp) / "ocr.pdf"
        report = ocr_pages(path, bare, copy, exe)
        if report.pages:
            layout = read_layout(copy)
    log.info("OCR %s: %d of %d pages without text read in %.1f s%s", path.name, len(report.pages), len(bare),
             report.seconds, f"; {len(report.failed)} unreadable" if report.failed else "")
    return layout, report


def page_warnings(report: OcrReport) -> list[str]:
    """One line per page Tesseract could not read, for a paper stored with its other pages."""
    return [f"page {page}: OCR could not read it ({why}); the paper is stored without it"
            for page, why in report.failed]


def ocr_extra(report: OcrReport) -> dict[str, list[int]]:
    """What a Paper's ``extra`` records of OCR: the pages read by OCR and those it could not read."""
    out = {"ocr_pages": report.pages} if report.pages else {}
    if report.failed:
        out["ocr_failed_pages"] = [page for page, _ in report.failed]
    return out


def no_text_reason(ocr: bool, report: OcrReport | None = None) -> str:
    """The one-line reason for a PDF left without text, saying how to get its text."""
    base = "no text layer (scanned pages?); OCR it first, e.g. with ocrmypdf"
    if not ocr:
        return f"{base} (zsearch's own OCR is off: --no-ocr)"
    if tesseract() is None:
        return f"{base}, or install Tesseract and zsearch reads it ({INSTALL_HINT}; see docs/pdf.md)"
    if report is not None and report.failed:
        page, why = report.failed[0]
        more = f" (and {len(report.failed) - 1} more pages)" if len(report.failed) > 1 else ""
        return f"no text layer (scanned pages?), and OCR could not read it: page {page}: {why}{more}"
    return "no text layer (scanned pages?), and OCR found too little text on its pages"
