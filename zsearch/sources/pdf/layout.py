"""Page geometry and reading order: text blocks per page, columns, running heads, footnotes.

Text comes from PyMuPDF's text layer (``page.get_text("dict")``). Each page's blocks are put
in reading order by finding the column gutter (the vertical strip that the least text
crosses, measured on line boxes); full-width blocks (title, author grid, wide figures) cut
the page into bands, and each band is read left column first, then right. Running headers,
footers and page numbers that repeat over the pages are dropped; small-print footnotes are
marked and moved after the page's body text. See docs/pdf.md.

``pymupdf`` is imported inside the functions that read files (see :func:`import_pymupdf`).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zsearch.errors import RecordError

# A block is a running header/footer candidate when it lies in the top or bottom 9% of the
# page: ACL's page numbers sit at 92-95% of the height, BMC's running heads at 4-7%.
MARGIN_FRACTION = 0.09
# Text blocks whose type is under 85% of the body size are small print (footnotes);
# ACL footnotes are 9pt against 11pt body (82%), BMC 6.8pt against 9.8pt.
SMALL_PRINT_RATIO = 0.85


@dataclass
class Line:
    """One text line: its text, box, dominant font size and flags."""

    text: str
    bbox: tuple[float, float, float, float]
    size: float
    bold: bool = False
    horizontal: bool = True
    spans: list[tuple[str, float, int]] = field(default_factory=list)  # (text, size, flags)


@dataclass
class Block:
    """A text block (PyMuPDF's paragraph-ish unit) with its lines."""

    bbox: tuple[float, float, float, float]
    lines: list[Line]
    page: int
    note: bool = False  # small print at the foot of the page (footnotes)

    @property
    def text(self) -> str:
        return "\n".join(ln.text for ln in self.lines)

    @property
    def size(self) -> float:
        """Font size that carries most of the block's characters."""
        c: Counter[float] = Counter()
        for ln in self.lines:
            c[round(ln.size, 1)] += len(ln.text)
        return c.most_common(1)[0][0] if c else 0.0


@dataclass
class PdfText:
    """A document's pages as ordered blocks, plus what the metadata step needs."""

    pages: list[list[Block]]
    page_sizes: list[tuple[float, float]]
    metadata: dict[str, str]
    body_size: float
    dropped: list[Block] = field(default_factory=list)  # running headers/footers
    rotated: list[Line] = field(default_factory=list)  # vertical text (arXiv stamps)


# -- opening -------------------------------------------------------------------------------
def import_pymupdf() -> Any:
    """Import PyMuPDF without its ONNX layout analyser.

    PyMuPDF 2.0 imports ``pymupdf.layout`` (the ``pymupdf_layout`` package) when it is
    installed, which loads an ONNX model: about 5 s of CPU and 50 MB at the first import,
    for a model that ``get_text()`` never uses (zsearch orders the text itself). A ``None``
    entry in ``sys.modules`` makes that one optional import fail, which PyMuPDF tolerates;
    the entry is removed again, so an explicit ``import pymupdf.layout`` later still works.
    """
    if "pymupdf" not in sys.modules and "pymupdf.layout" not in sys.modules:
        sys.modules["pymupdf.layout"] = None  # type: ignore[assignment]
        try:
            import pymupdf
        finally:
            del sys.modules["pymupdf.layout"]
    import pymupdf

    return pymupdf


def _open(path: Path) -> Any:
    """Open a PDF with PyMuPDF, or raise RecordError with a one-line reason."""
    pymupdf = import_pymupdf()

    record = str(path)
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:
        raise RecordError(
            "not a readable PDF: MuPDF cannot parse it (damaged, truncated or not a PDF)",
            record=record,
        ) from exc
    if doc.needs_pass or doc.is_encrypted:
        doc.close()
        raise RecordError(
            "encrypted PDF (password required)",
            record=record,
            hint="decrypt it first, e.g. qpdf --password=PASS --decrypt in.pdf out.pdf",
        )
    if doc.page_count == 0:
        doc.close()
        raise RecordError("not a readable PDF: no pages (truncated or damaged file?)", record=record)
    return doc


def _page_blocks(page: Any, page_no: int, rotated: list[Line]) -> list[Block]:
    """The page's text blocks as :class:`Block` objects; vertical lines go to ``rotated``."""
    pymupdf = import_pymupdf()

    raw = page.get_text("dict", flags=pymupdf.TEXT_MEDIABOX_CLIP)
    blocks: list[Block] = []
    for b in raw["blocks"]:
        if b.get("type", 0) != 0:
            continue
        lines: list[Line] = []
        for ln in b["lines"]:
            spans = [(s["text"], float(s["size"]), int(s["flags"])) for s in ln["spans"]]
            text = "".join(s[0] for s in spans)
            if not text.strip():
                continue
            sizes: Counter[float] = Counter()
            bold = 0
            for t, sz, fl in spans:
                sizes[round(sz, 1)] += len(t.strip())
                if fl & 16:
                    bold += len(t.strip())
            line = Line(
                text=_clean(text),
                bbox=tuple(ln["bbox"]),  # type: ignore[arg-type]
                size=sizes.most_common(1)[0][0] if sizes else 0.0,
                bold=bold * 2 > sum(sizes.values()),
                horizontal=abs(ln["dir"][1]) < 0.1 and ln["dir"][0] > 0,
                spans=spans,
            )
            if line.horizontal:
                lines.append(line)
            else:
                rotated.append(line)
        if lines:
            x0 = min(ln.bbox[0] for ln in lines)
            y0 = min(ln.bbox[1] for ln in lines)
            x1 = max(ln.bbox[2] for ln in lines)
            y1 = max(ln.bbox[3] for ln in lines)
            blocks.append(Block((x0, y0, x1, y1), lines, page_no))
    return blocks


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u00ad", "").replace("\ufffd", "")
    return re.sub(r"[ \t\u00a0]+", " ", text).strip()


# -- reading order -------------------------------------------------------------------------
def find_gutter(boxes: list[tuple[float, float, float, float]], width: float) -> float | None:
    """The x of a two-column page's gutter, or ``None`` for a one-column page.

    The gutter is the x in the middle 40% of the page that the least text height crosses; the
    page has two columns when at most 15% of the text height crosses it and at least 20% lies
    on each side. Boxes are ``(x0, y0, x1, y1)``.

    >>> find_gutter([(72, 100, 290, 700), (306, 100, 527, 700)], 595)
    298.0
    >>> find_gutter([(72, 100, 527, 700)], 595) is None
    True
    """
    total = sum(b[3] - b[1] for b in boxes)
    if total <= 0:
        return None
    import numpy as np

    lo, hi = int(width * 0.3), int(width * 0.7)
    arr = np.asarray(boxes, dtype=np.float64)
    xs = np.arange(lo, hi + 1, 2, dtype=np.float64)
    inside = (arr[:, 0][None, :] < xs[:, None]) & (xs[:, None] < arr[:, 2][None, :])
    crossing = inside.astype(np.float64) @ (arr[:, 3] - arr[:, 1])
    # the least crossed x; among equally empty strips, the one nearest the centre
    order = np.lexsort((np.abs(xs - width / 2), crossing))
    best_x, best_cross = int(xs[order[0]]), float(crossing[order[0]])
    left = sum(b[3] - b[1] for b in boxes if b[2] <= best_x)
    right = sum(b[3] - b[1] for b in boxes if b[0] >= best_x)
    if best_cross <= 0.15 * total and left >= 0.2 * total and right >= 0.2 * total:
        # the middle of the empty strip around best_x
        a = best_x
        while a - 1 > lo and not any(b[0] < a - 1 < b[2] for b in boxes):
            a -= 1
        z = best_x
        while z + 1 < hi and not any(b[0] < z + 1 < b[2] for b in boxes):
            z += 1
        return float((a + z) / 2) if best_cross == 0 else float(best_x)
    return None


def _sub_block(b: Block, lines: list[Line]) -> Block:
    x0 = min(ln.bbox[0] for ln in lines)
    y0 = min(ln.bbox[1] for ln in lines)
    x1 = max(ln.bbox[2] for ln in lines)
    y1 = max(ln.bbox[3] for ln in lines)
    return Block((x0, y0, x1, y1), lines, b.page)


def split_margin_lines(blocks: list[Block], height: float) -> list[Block]:
    """Split off a block's leading/trailing lines that lie in the top/bottom margin.

    MuPDF sometimes glues a page number or running head onto the nearest column block;
    split off, it can be recognised as a running header/footer.
    """
    out: list[Block] = []
    for b in blocks:
        lines = b.lines
        head: list[Line] = []
        tail: list[Line] = []
        while len(lines) > 1 and lines[0].bbox[3] <= height * MARGIN_FRACTION:
            head.append(lines[0])
            lines = lines[1:]
        while len(lines) > 1 and lines[-1].bbox[1] >= height * (1 - MARGIN_FRACTION):
            tail.insert(0, lines[-1])
            lines = lines[:-1]
        if not head and not tail:
            out.append(b)
            continue
        out += [_sub_block(b, [ln]) for ln in head]
        out.append(_sub_block(b, lines))
        out += [_sub_block(b, [ln]) for ln in tail]
    return out


def _same_rows(left: list[Line], right: list[Line]) -> bool:
    """Whether most right-hand lines share a baseline with a left-hand line."""
    same = sum(any(abs(r.bbox[3] - ln.bbox[3]) < 2 for ln in left) for r in right)
    return 2 * same >= len(right)


def order_blocks(blocks: list[Block], width: float, height: float | None = None) -> list[Block]:
    """Blocks in reading order: bands cut by full-width blocks, each read column by column.

    The gutter is found from line boxes (outside the top/bottom margins), which are tighter
    than block boxes. A block whose lines sit on both sides of the gutter without crossing it
    is split into its left and right parts.
    """
    if len(blocks) < 2:
        return list(blocks)
    h = height or max(b.bbox[3] for b in blocks)
    body_lines = [ln.bbox for b in blocks for ln in b.lines if not (_in_margin_box(ln.bbox, h))]
    gutter = find_gutter(body_lines or [b.bbox for b in blocks], width)
    if gutter is None:
        return sorted(blocks, key=lambda b: (round(b.bbox[1]), b.bbox[0]))
    margin = 0.03 * width  # a line may overhang the gutter by this much and stay in its column
    crosses = lambda bb: bb[0] < gutter - margin and bb[2] > gutter + margin
    spanning: list[Block] = []
    cols: list[Block] = []
    for b in blocks:
        if crosses(b.bbox) and 2 * sum(crosses(ln.bbox) for ln in b.lines) >= len(b.lines):
            spanning.append(b)
            continue
        left = [ln for ln in b.lines if (ln.bbox[0] + ln.bbox[2]) / 2 < gutter]
        right = [ln for ln in b.lines if (ln.bbox[0] + ln.bbox[2]) / 2 >= gutter]
        if left and right and crosses(b.bbox) and _same_rows(left, right):
            spanning.append(b)  # a grid across the page (author lists): read row by row
        elif left and right:
            cols += [_sub_block(b, left), _sub_block(b, right)]
        else:
            cols.append(b)
    spanning.sort(key=lambda b: b.bbox[1])
    out: list[Block] = []
    top = float("-inf")
    for cut in [*spanning, None]:
        bottom = cut.bbox[1] if cut is not None else float("inf")
        band = [b for b in cols if top <= (b.bbox[1] + b.bbox[3]) / 2 < bottom]
        left_b = [b for b in band if (b.bbox[0] + b.bbox[2]) / 2 < gutter]
        right_b = [b for b in band if (b.bbox[0] + b.bbox[2]) / 2 >= gutter]
        out += sorted(left_b, key=lambda b: b.bbox[1]) + sorted(right_b, key=lambda b: b.bbox[1])
        if cut is not None:
            out.append(cut)
            top = (cut.bbox[1] + cut.bbox[3]) / 2
    return out


def _margin_key(b: Block) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", b.text.lower())).strip()


def _drop_running(pages: list[list[Block]], sizes: list[tuple[float, float]]) -> list[Block]:
    """Remove blocks in the top/bottom margin that repeat (digits aside) on several pages."""
    counts: Counter[str] = Counter()
    for blocks, (_, h) in zip(pages, sizes):
        keys = {_margin_key(b) for b in blocks if _in_margin(b, h)}
        counts.update(keys)
    min_pages = max(2, len(pages) // 3)
    dropped: list[Block] = []
    for i, (blocks, (_, h)) in enumerate(zip(pages, sizes)):
        keep = []
        for b in blocks:
            key = _margin_key(b)
            running = _in_margin(b, h) and (counts[key] >= min_pages or re.fullmatch(r"[#\s\-–]*", key))
            (dropped if running and len(pages) > 1 else keep).append(b)
        pages[i] = keep
    return dropped


def _in_margin(b: Block, height: float) -> bool:
    return _in_margin_box(b.bbox, height)


def _in_margin_box(bbox: tuple[float, float, float, float], height: float) -> bool:
    return bbox[3] <= height * MARGIN_FRACTION or bbox[1] >= height * (1 - MARGIN_FRACTION)


def _body_size(pages: list[list[Block]]) -> float:
    c: Counter[float] = Counter()
    for blocks in pages:
        for b in blocks:
            for ln in b.lines:
                c[round(ln.size, 1)] += len(ln.text)
    return c.most_common(1)[0][0] if c else 0.0


def _footnotes_last(blocks: list[Block], body: float, height: float) -> list[Block]:
    """Mark small-print blocks in the lower part of the page as notes, after the body text."""
    main, notes = [], []
    for b in blocks:
        b.note = b.size < body * SMALL_PRINT_RATIO and b.bbox[1] > height * 0.6
        (notes if b.note else main).append(b)
    return main + notes


def read_layout(path: str | Path) -> PdfText:
    """Open a PDF and return its blocks per page in reading order (no metadata step)."""
    path = Path(path)
    doc = _open(path)
    try:
        pages: list[list[Block]] = []
        sizes: list[tuple[float, float]] = []
        rotated: list[Line] = []
        for i, page in enumerate(doc):
            try:
                blocks = _page_blocks(page, i, rotated)
            except Exception as exc:
                raise RecordError(
                    f"not a readable PDF: page {i + 1}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                    record=str(path),
                ) from exc
            w, h = page.rect.width, page.rect.height
            pages.append(order_blocks(split_margin_lines(blocks, h), w, h))
            sizes.append((w, h))
        metadata = {k: (v or "") for k, v in (doc.metadata or {}).items()}
    finally:
        doc.close()
    dropped = _drop_running(pages, sizes)
    body = _body_size(pages)
    pages = [_footnotes_last(b, body, h) for b, (_, h) in zip(pages, sizes)]
    return PdfText(pages, sizes, metadata, body, dropped, rotated)
