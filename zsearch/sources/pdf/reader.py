"""PDF source: text in reading order and front-matter metadata from local PDF files.

Text comes from PyMuPDF's text layer (``page.get_text("dict")``). Each page's blocks are put
in reading order by finding the column gutter (the vertical strip that the least text
crosses, measured on line boxes); full-width blocks (title, author grid, wide figures) cut
the page into bands, and each band is read left column first, then right. Running headers,
footers and page numbers that repeat over the pages are dropped; small-print footnotes
follow the paragraph that a column or page break interrupts, so its sentence stays whole;
a line-end hyphen goes only when the document itself spells the word without one.

Metadata (title, authors, abstract, DOI, arXiv id, year) comes from the first page's layout
(the largest type is the title, the lines under it the authors, the text after "Abstract"
the abstract) checked against the PDF's own metadata. See docs/pdf.md.

``pymupdf`` is imported inside the functions that read files (see :func:`import_pymupdf`).
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from zsearch.errors import NotFound, RecordError
from zsearch.papers.identity import DOI_RE, canonical_id
from zsearch.papers.model import Paper, display_title

# A block is a running header/footer candidate when it lies in the top or bottom 9% of the
# page: ACL's page numbers sit at 92-95% of the height, BMC's running heads at 4-7%.
MARGIN_FRACTION = 0.09
# Text blocks whose type is under 85% of the body size are small print (footnotes);
# ACL footnotes are 9pt against 11pt body (82%), BMC 6.8pt against 9.8pt.
SMALL_PRINT_RATIO = 0.85
# Pages with fewer characters than this on average count as having no text layer: a
# scanned page often carries a few characters of stamps or page numbers.
MIN_CHARS_PER_PAGE = 40
# Title candidates are searched in the top half of the first page.
TITLE_ZONE = 0.5
# Pages scanned for the abstract, DOI and arXiv id (the front matter).
FRONT_PAGES = 2

_ARXIV_STAMP_RE = re.compile(r"arXiv:\s*(\d{4}\.\d{4,5}|[a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?", re.IGNORECASE)
_YEAR_RE = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
_SECTION_RE = re.compile(
    r"^(?:(?:\d{1,2}|[IVX]{1,4})\.?\s+)?(?:introduction|background|keywords?|key\s+words"
    r"|index\s+terms|methods?|results|ccs\s+concepts|general\s+terms)\b[\s:.\-—]*",
    re.IGNORECASE,
)
_NUMBERED_HEADING_RE = re.compile(r"^(?:\d{1,2}|[IVX]{1,4})\.?\s+[A-Z][A-Za-z\- ]{2,60}$")
_ABSTRACT_RE = re.compile(r"^\s*a\s?b\s?s\s?t\s?r\s?a\s?c\s?t\b[\s:.\-—–]*", re.IGNORECASE)
_ARTICLE_TYPES = {
    "research article", "review", "review article", "original article", "article", "letter",
    "open access", "research", "methodology", "short report", "case report", "commentary",
    "original research", "research paper", "brief communication",
}  # fmt: skip
_AFFILIATION_WORDS = re.compile(
    r"\b(universit|institut|department|dept\.|school|college|laborator|lab\b|centre|center"
    r"|hospital|inc\.|corp|gmbh|ltd|research|faculty|academy|foundation|ministry|division"
    r"|street|road|avenue|box\s|usa\b|uk\b|germany|china|france|canada|japan|correspond)",
    re.IGNORECASE,
)
_MARKERS = "*†‡§¶∗⋆#♯♭♮∥⊥⊤⋄◇○•"


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


# -- text ----------------------------------------------------------------------------------
_WORD_RE = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")


def _vocabulary(lines: Iterable[str]) -> set[str]:
    """Lower-cased words and hyphenated compounds that occur inside lines (not at line ends)."""
    vocab: set[str] = set()
    for line in lines:
        words = _WORD_RE.findall(line)
        if line.rstrip().endswith("-") and words:
            words = words[:-1]
        for w in words:
            w = w.lower()
            vocab.add(w)
            if "-" in w:
                vocab.update(w.split("-"))
    return vocab


def join_hyphenated(head: str, tail: str, vocab: set[str]) -> str:
    """Join a word broken at a line end (``head`` without its hyphen, ``tail``).

    The hyphen goes when the document spells the joined word elsewhere, stays when it
    spells the hyphenated compound, and otherwise goes when both parts are lower case.

    >>> join_hyphenated("ingre", "dient", set())
    'ingredient'
    >>> join_hyphenated("citation", "informed", {"citation-informed"})
    'citation-informed'
    >>> join_hyphenated("BERT", "based", set())
    'BERT-based'
    """
    joined, compound = (head + tail).lower(), f"{head}-{tail}".lower()
    if joined in vocab:
        return head + tail
    if compound in vocab:
        return f"{head}-{tail}"
    if head[-1:].islower() and tail[:1].islower():
        return head + tail
    return f"{head}-{tail}"


_HYPHEN_END_RE = re.compile(r"([A-Za-z]+)-$")
_WORD_START_RE = re.compile(r"^([A-Za-z]+)")


def _join_lines(lines: list[str], vocab: set[str]) -> str:
    """Lines of one paragraph as one string, de-hyphenating line ends."""
    parts: list[str] = []  # one per line (joined with spaces at the end: linear time)
    for line in lines:
        prev = parts[-1] if parts else ""
        m = _HYPHEN_END_RE.search(prev) if prev.endswith("-") else None
        n = _WORD_START_RE.match(line) if m else None
        if m and n:
            word = join_hyphenated(m.group(1), n.group(1), vocab)
            parts[-1] = prev[: m.start()] + word + line[n.end() :]
        else:
            parts.append(line)
    return " ".join(parts)


def _continues(prev: str, nxt: str) -> bool:
    """Whether block ``nxt`` continues the sentence that ``prev`` breaks off (column/page turn)."""
    if not prev or not nxt:
        return False
    if prev.endswith("-") and nxt[:1].isalpha():
        return True
    if prev[-1] in ".!?:":
        return False
    if nxt[:1].islower():
        return True
    # "(e.g., Lample et al.," | "2016), and assume ..."
    return prev[-1] in ",(" and (nxt[:1].isdigit() or nxt[:1] in "([")


def blocks_text(blocks: list[list[Block]], vocab: set[str] | None = None) -> str:
    """Plain text of ordered blocks: paragraphs separated by blank lines, hyphens mended.

    A paragraph cut by a column or page break is joined again when the next block starts in
    lower case after an unfinished sentence; footnotes in between follow that paragraph.
    """
    flat = [b for page in blocks for b in page]
    if vocab is None:
        vocab = _vocabulary(ln.text for b in flat for ln in b.lines)
    paras: list[list[str]] = []
    notes: list[list[str]] = []
    prev = ""
    for b in flat:
        lines = [ln.text for ln in b.lines]
        if b.note:
            if notes and _continues(notes[-1][-1], lines[0]):
                notes[-1].extend(lines)
            else:
                notes.append(lines)
        elif paras and _continues(prev, lines[0]):
            paras[-1].extend(lines)
            prev = lines[-1]
        else:
            paras += notes
            notes = []
            paras.append(lines)
            prev = lines[-1]
    paras += notes
    return "\n\n".join(_join_lines(p, vocab) for p in paras)


def extract_pages(path: str | Path) -> list[str]:
    """Text of each page in reading order (headers/footers dropped, hyphens mended).

    This is the text-extraction step alone, without metadata; benchmarks time it.
    """
    layout = read_layout(path)
    vocab = _vocabulary(ln.text for page in layout.pages for b in page for ln in b.lines)
    return [blocks_text([page], vocab) for page in layout.pages]


# -- metadata ------------------------------------------------------------------------------
def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", s.lower())


def _similar(a: str, b: str) -> bool:
    na, nb = _norm(a), _norm(b)
    if not na or not nb:
        return False
    if len(na) >= 12 and len(nb) >= 12 and (na in nb or nb in na):
        return True
    return SequenceMatcher(None, na, nb).ratio() >= 0.8


def _plausible_title(t: str) -> bool:
    t = t.strip()
    if len(t) < 8 or len(t.split()) < 2 or len(t) > 400:
        return False
    low = t.lower()
    bad = ("proceedings of", "microsoft word", ".doc", ".pdf", ".tex", "untitled", "article id")
    if any(x in low for x in bad):
        return False
    letters = sum(ch.isalpha() for ch in t)
    return letters >= 0.6 * len(t.replace(" ", ""))


def _title_lines(first: list[Block], height: float) -> list[Line]:
    """The first run of largest-type lines in the top part of page one."""
    cands = [
        ln
        for b in first
        for ln in b.lines
        if ln.bbox[1] < height * TITLE_ZONE
        and sum(ch.isalpha() for ch in ln.text) >= 3
        and _norm(ln.text) not in {_norm(a) for a in _ARTICLE_TYPES}
        and not _ABSTRACT_RE.match(ln.text)
    ]
    if not cands:
        return []
    big = max(ln.size for ln in cands)
    run: list[Line] = []
    for b in first:
        for ln in b.lines:
            if ln in cands and abs(ln.size - big) < 0.6:
                if run and ln.bbox[1] - run[-1].bbox[3] > 2.5 * big:
                    return run
                run.append(ln)
            elif run and ln.bbox[1] > run[-1].bbox[1]:
                return run
    return run


def _strip_markers(line: Line) -> str:
    """A line's text without superscript spans (affiliation marks) and footnote symbols."""
    parts = []
    for text, size, flags in line.spans:
        if flags & 1 or size < line.size * 0.8:  # superscript, or a raised small mark
            parts.append(" " if text.strip() in {",", ""} else ",")
            continue
        parts.append(text)
    s = "".join(parts)
    s = re.sub(f"[{re.escape(_MARKERS)}]", ",", s)
    return re.sub(r"\s+", " ", s).strip()


_NAME_RE = re.compile(
    r"^(?:[A-Z][A-Za-z'’\-]*\.?|[A-Z]\.|de|van|der|von|den|del|la|le|di|da|dos|y)"
    r"(?:\s+(?:[A-Z][A-Za-z'’\-]*\.?|[A-Z]\.|de|van|der|von|den|del|la|le|di|da|dos|y)){1,4}$"
)


def split_names(text: str) -> list[str]:
    """Names from an author line: split on commas, ``and`` and ``&``; non-names dropped.

    >>> split_names("Doug Downey, Stefan Schoenmackers, and Oren Etzioni")
    ['Doug Downey', 'Stefan Schoenmackers', 'Oren Etzioni']
    """
    out = []
    for part in re.split(r",|;|\band\b|&|\s{3,}", text):
        name = re.sub(r"\d+", "", part).strip(" .,*")
        name = re.sub(r"\s+", " ", name)
        if (
            name
            and _NAME_RE.match(name)
            and not _AFFILIATION_WORDS.search(name)
            and name.lower() not in {"abstract", "open access"}
        ):
            out.append(name)
    return out


def _layout_authors(first: list[Block], title: list[Line]) -> list[str]:
    """Names in the lines between the title and the abstract on page one."""
    if not title:
        return []
    after = title[-1].bbox[3]
    names: list[str] = []
    for b in first:
        for ln in b.lines:
            if ln.bbox[1] < after - 1 or ln in title:
                continue
            if _ABSTRACT_RE.match(ln.text) or ln.bbox[1] > after + 200:
                return names
            text = _strip_markers(ln)
            if "@" in text or _AFFILIATION_WORDS.search(text):
                if names:
                    return names
                continue
            found = split_names(text)
            if found:
                names += [n for n in found if n not in names]
            elif names:
                return names
    return names


def _same_people(a: list[str], b: list[str]) -> bool:
    """Two equally long name lists whose surnames mostly agree."""
    if not a or len(a) != len(b):
        return False
    last = lambda n: _norm(n.split()[-1]) if n.split() else ""
    agree = sum(SequenceMatcher(None, last(x), last(y)).ratio() >= 0.8 for x, y in zip(a, b))
    return agree >= 0.8 * len(a)


def _meta_authors(author: str) -> list[str]:
    author = author.strip()
    if not author or re.search(r"association|et al|\{|\bunknown\b|admin", author, re.IGNORECASE):
        return []
    sep = ";" if ";" in author else ","
    names = [re.sub(r"\s+", " ", a).strip() for a in re.split(rf"{sep}|\band\b", author)]
    # some metadata is typed in lower case ("oren etzioni")
    return [n.title() if n.islower() else n for n in names if n and len(n) < 80]


def _abstract(front: list[Block], body: float) -> str:
    """Text after an "Abstract" heading up to the first section heading.

    Without such a heading, the first long paragraph of page one that is not a licence
    statement stands in.
    """
    start = None
    for i, b in enumerate(front):
        if _ABSTRACT_RE.match(b.lines[0].text):
            start = i
            break
    if start is None:
        for b in front:
            t = b.text
            if (
                b.page == 0
                and len(t) >= 400
                and not re.search(r"copyright|licen[cs]e|©|creative commons", t, re.IGNORECASE)
            ):
                return _tidy(_join_lines([ln.text for ln in b.lines], set()))
        return ""
    lines: list[str] = []
    first = front[start]
    head = _ABSTRACT_RE.sub("", first.lines[0].text, count=1)
    if head:
        lines.append(head)
    lines += [ln.text for ln in first.lines[1:]]
    size = None
    for b in front[start + 1 :]:
        t0 = b.lines[0].text
        if _SECTION_RE.match(t0) and (len(t0) < 40 or re.match(r"^key ?words|^index terms", t0, re.IGNORECASE)):
            break
        if _NUMBERED_HEADING_RE.match(t0) and len(b.lines) <= 2:
            break
        size = size or b.size
        if lines and abs(b.size - size) > 0.6:
            break
        lines += [ln.text for ln in b.lines]
    return _tidy(_join_lines(lines, set()))


def _tidy(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def find_arxiv_id(text: str) -> str | None:
    """The arXiv id of an ``arXiv:`` stamp in ``text`` (version kept), or ``None``.

    >>> find_arxiv_id("arXiv:1810.04805v2 [cs.CL] 24 May 2019")
    '1810.04805v2'
    >>> find_arxiv_id("see arXiv preprint arXiv:hep-th/9901001") is None
    True
    """
    for m in _ARXIV_STAMP_RE.finditer(text):
        before = text[max(0, m.start() - 30) : m.start()].lower()
        if "preprint" in before:
            continue  # a reference, not this paper's stamp
        return m.group(1) + (m.group(2) or "")
    return None


def find_doi(text: str) -> str | None:
    """The first DOI in ``text``, without trailing punctuation.

    >>> find_doi("Rehabilitation Research and Practice doi:10.1155/2010/157939.")
    '10.1155/2010/157939'
    """
    m = DOI_RE.search(text)
    if not m:
        return None
    return m.group(1).rstrip(".,;)]}")


def _year(front_text: str, arxiv_stamp: str, meta: dict[str, str]) -> int | None:
    """Publication year: the arXiv stamp, a copyright or proceedings line, else metadata."""
    import datetime

    latest = datetime.date.today().year + 1
    ok = lambda y: 1950 <= y <= latest
    m = _YEAR_RE.search(arxiv_stamp)
    if m and ok(int(m.group(1))):
        return int(m.group(1))
    pats = [  # proceedings lines first: ACL's 2018 template still printed "c⃝2017"
        r"proceedings of[\s\S]{0,200}?(?<!\d)(19[5-9]\d|20\d\d)(?!\d)",
        r"(?:©|\(c\)|copyright|c⃝)\s*(?:the authors?\s*)?(\d{4})",
        r"(\d{4})\.?\s*(?:c⃝|©)?\s*association for computational linguistics",
        r"(?:volume|vol\.)\s*(\d{4})",
        r"published(?: online)?:?\s*(?:\d{1,2}\s+\w+\s+)?(\d{4})",
    ]
    for p in pats:
        m2 = re.search(p, front_text, re.IGNORECASE)
        if m2 and ok(int(m2.group(1))):
            return int(m2.group(1))
    for key in ("subject", "keywords"):
        m = _YEAR_RE.search(meta.get(key, ""))
        if m and ok(int(m.group(1))):
            return int(m.group(1))
    m = re.match(r"D:(\d{4})", meta.get("creationDate", ""))
    if m and ok(int(m.group(1))):
        return int(m.group(1))
    return None


def paper_metadata(layout: PdfText) -> dict[str, Any]:
    """Title, authors, abstract, DOI, arXiv id and year from the layout and PDF metadata."""
    meta = layout.metadata
    first = layout.pages[0] if layout.pages else []
    height = layout.page_sizes[0][1] if layout.page_sizes else 0.0
    title_lines = _title_lines(first, height)
    layout_title = display_title(_join_lines([ln.text for ln in title_lines], set()))
    meta_title = display_title(meta.get("title", ""))
    meta_ok = _plausible_title(meta_title)
    if meta_ok and (not layout_title or _similar(meta_title, layout_title)):
        title = meta_title
    elif layout_title:
        title = layout_title
        meta_ok = False
    else:
        title = meta_title if meta_ok else ""

    authors = _meta_authors(meta.get("author", "")) if meta_ok else []
    from_layout = _layout_authors(first, title_lines)
    if (
        not authors
        or _same_people(authors, from_layout)
        or (len(from_layout) > len(authors) and _norm(authors[0]) in map(_norm, from_layout))
    ):
        # the names as printed: metadata may abbreviate ("Lucy Wang") or misspell them
        authors = from_layout or authors

    front = [b for page in layout.pages[:FRONT_PAGES] for b in page]
    front_text = "\n".join(b.text for b in front if b.page == 0)
    margins = "\n".join(b.text for b in layout.dropped if b.page < FRONT_PAGES)
    stamps = "\n".join(ln.text for ln in layout.rotated)
    meta_text = " ".join(meta.get(k, "") for k in ("subject", "keywords", "title"))

    arxiv = find_arxiv_id(stamps) or find_arxiv_id(front_text)
    doi = find_doi(meta_text) or find_doi(margins) or find_doi(front_text)
    stamp_line = next((ln.text for ln in layout.rotated if _ARXIV_STAMP_RE.search(ln.text)), "")
    year = _year(front_text + "\n" + margins, stamp_line, meta)
    return {
        "title": title,
        "authors": authors,
        "abstract": _abstract(front, layout.body_size),
        "doi": doi,
        "arxiv_id": arxiv,
        "year": year,
    }


# -- papers --------------------------------------------------------------------------------
def read_pdf(path: str | Path) -> Paper:
    """Read one PDF into a :class:`Paper` (full text in reading order plus front matter).

    Raises :class:`RecordError` (``.record`` is the path) for a file that is not a readable
    PDF, is encrypted, or has no text layer.
    """
    path = Path(path).resolve()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordError(f"cannot read file: {exc.strerror or exc}", record=str(path)) from exc
    if not data:
        raise RecordError("empty file (0 bytes)", record=str(path))
    layout = read_layout(path)
    chars = sum(len(ln.text) for page in layout.pages for b in page for ln in b.lines)
    chars += sum(len(b.text) for b in layout.dropped)
    if chars < MIN_CHARS_PER_PAGE * len(layout.pages):
        raise RecordError(
            "no text layer (scanned pages?); OCR it first, e.g. with ocrmypdf",
            record=str(path),
        )
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
        extra={"pages": len(layout.pages), "file_sha256": sha},
    )


def iter_pdfs(paths: Iterable[str | Path]) -> Iterator[Paper | RecordError]:
    """A :class:`Paper` per readable PDF under ``paths``, a :class:`RecordError` per bad one.

    Never stops the batch for one file; a path that does not exist raises :class:`NotFound`.
    """
    for p in iter_pdf_paths(paths):
        try:
            yield read_pdf(p)
        except RecordError as exc:
            yield exc
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
            yield RecordError(
                f"not a readable PDF: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                record=str(Path(p).resolve()),
            )
