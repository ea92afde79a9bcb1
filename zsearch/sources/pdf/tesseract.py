"""Tesseract on one page image: finding the command, running it, its hOCR as lines of text.

zsearch calls the ``tesseract`` command (the Debian/Homebrew package) rather than PyMuPDF's
built-in OCR (``page.get_textpage_ocr``): PyMuPDF gives no control over Tesseract's page
segmentation, and the mode it uses reads drawings as letters (on the shared Huckleberry Finn
scan, an illustration beside the text, its character error rate was 34-65% against 5% here;
docs/pdf.md). The command also reports each word's confidence, and a page that hangs can be
stopped. :mod:`zsearch.sources.pdf.ocr` decides which pages come here and writes the text back.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

# Tesseract's language: the papers zsearch reads are mostly English; `tesseract-ocr-eng` is
# the Debian package the README installs.
LANGUAGE = "eng"
# Seconds one page may take; Tesseract needs 2-15 s for a page on one CPU core.
PAGE_TIMEOUT_S = 300
# A recognised line whose words average below this confidence (0-100) and which has no word
# of three letters or more above WORD_CONF is noise: specks, hatching in a drawing.
LINE_CONF = 40
WORD_CONF = 60
# Tesseract's page segmentation: 3 is its default, a fully automatic layout analysis that
# leaves drawings out.
PAGE_SEGMENTATION = 3
# A page whose recognised characters are less than 90% "sure" (confidence >= 80) is a noisy
# scan and gets a second reading as one block, kept when it is sure of 10% more characters:
# the shared CERMINE scan (78% sure) gains two paragraphs that the automatic layout skipped;
# the clean Huckleberry Finn scan (95%) and born-digital pages rendered for OCR (97-98%)
# keep the first reading (measurements in docs/pdf.md).
SURE_CONF = 80
NOISY_PAGE = 0.9
BLOCK_GAIN = 1.1
# Words further apart than this many type sizes are not one line (a column gutter): justified
# text stretches a space to under one size; the gutter of ACL's two columns is 1.5 (17 pt at 11 pt type).
GAP_EMS = 1.2

# -- finding Tesseract ----------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def tesseract() -> str | None:
    """Path of a ``tesseract`` command that can read :data:`LANGUAGE`, or ``None``.

    ``$ZSEARCH_TESSERACT`` names the command when it is not on ``PATH`` (set it to an empty
    string to turn OCR off). The language data is found by Tesseract itself (its default
    folder, or ``$TESSDATA_PREFIX``).
    """
    exe = os.environ.get("ZSEARCH_TESSERACT")
    exe = shutil.which(exe) if exe else (shutil.which("tesseract") if exe is None else None)
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    langs = {ln.strip() for ln in (out.stdout + out.stderr).splitlines()}
    return exe if out.returncode == 0 and LANGUAGE in langs else None


# -- recognising one page -------------------------------------------------------------------
@dataclass
class OcrLine:
    """A recognised line, in page points: its words' text, box, baseline, type size, confidence."""

    text: str
    bbox: tuple[float, float, float, float]  # x0, y0, x1, y1
    baseline: float  # y of the baseline
    size: float  # Tesseract's estimate of the type size
    conf: float  # mean word confidence, 0-100
    paragraph: str  # Tesseract's paragraph id


@dataclass
class OcrWord:
    text: str
    conf: float
    bbox: tuple[float, float, float, float]  # pixels


def _split_at_gaps(words: list[OcrWord], size: float) -> list[list[OcrWord]]:
    """A line's words, cut where the space between two is wider than GAP_EMS type sizes.

    A line read in one-block mode runs across a page's columns; cut at the gutter, each part
    lies in its column, and the layout step finds the columns again.
    """
    parts = [[words[0]]]
    for prev, w in zip(words, words[1:]):
        if w.bbox[0] - prev.bbox[2] > GAP_EMS * size:
            parts.append([])
        parts[-1].append(w)
    return parts


class OcrFailed(Exception):
    """Tesseract could not read a page; the message is one line."""


_HOCR_LINES = {"ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"}


def _title(el: Any) -> dict[str, list[str]]:
    """An hOCR element's ``title`` properties: ``"bbox 1 2 3 4; x_wconf 96"`` -> {bbox: [...], ...}."""
    out = {}
    for part in (el.get("title") or "").split(";"):
        bits = part.split()
        if bits:
            out[bits[0]] = bits[1:]
    return out


def parse_hocr(hocr: str, scale: float) -> tuple[list[OcrLine], list[OcrWord]]:
    """Tesseract's hOCR as lines (boxes in points: ``scale`` points per pixel) and all its words.

    Lines that are only noise (see :data:`LINE_CONF`) are left out of the lines.

    >>> hocr = ('<html xmlns="http://www.w3.org/1999/xhtml"><body><p class="ocr_par" id="par_1_1">'
    ...         '<span class="ocr_line" title="bbox 10 20 80 34; baseline 0 -4; x_size 18">'
    ...         '<span class="ocrx_word" title="bbox 10 20 40 30; x_wconf 96">Hello</span> '
    ...         '<span class="ocrx_word" title="bbox 45 20 80 34; x_wconf 91">world</span></span>'
    ...         '<span class="ocr_line" title="bbox 10 90 18 98; baseline 0 0; x_size 8">'
    ...         '<span class="ocrx_word" title="bbox 10 90 18 98; x_wconf 12">Yi</span></span></p></body></html>')
    >>> lines, words = parse_hocr(hocr, 0.5)
    >>> [(ln.text, ln.bbox, ln.baseline, ln.size) for ln in lines], len(words)
    ([('Hello world', (5.0, 10.0, 40.0, 17.0), 15.0, 10.0)], 3)
    """
    import xml.etree.ElementTree as ET

    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", hocr, count=1))
    lines: list[OcrLine] = []
    words: list[OcrWord] = []
    paragraph = ""
    for el in root.iter():
        cls = el.get("class")
        if cls == "ocr_par":
            paragraph = el.get("id") or str(len(lines))
        if cls not in _HOCR_LINES:
            continue
        props = _title(el)
        ws = []
        for w in el.iter():
            text = "".join(w.itertext()).strip() if w.get("class") == "ocrx_word" else ""
            if text:
                wp = _title(w)
                ws.append(OcrWord(text, float((wp.get("x_wconf") or ["0"])[0]),
                                  tuple(float(v) for v in wp["bbox"][:4])))  # type: ignore[arg-type]
        if not ws:
            continue
        words += ws
        mean = sum(w.conf for w in ws) / len(ws)
        sure = any(w.conf >= WORD_CONF and len(re.sub(r"[^A-Za-z]", "", w.text)) >= 3 for w in ws)
        if mean < LINE_CONF and not sure:
            continue
        y1 = float(props["bbox"][3])
        baseline = y1 + float((props.get("baseline") or ["0", "0"])[1])
        # x_size: Tesseract's line height estimate, about 0.9 of the type size (measured on
        # an 11 pt ACL page rendered at 300 dpi: x_size 41 px = 9.8 pt)
        size = float((props.get("x_size") or [str(y1 - float(props["bbox"][1]))])[0]) / 0.9
        for part in _split_at_gaps(ws, size):
            x0, y0 = min(w.bbox[0] for w in part), min(w.bbox[1] for w in part)
            x1, y1 = max(w.bbox[2] for w in part), max(w.bbox[3] for w in part)
            lines.append(OcrLine(" ".join(w.text for w in part), (x0 * scale, y0 * scale, x1 * scale, y1 * scale),
                                 baseline * scale, size * scale, mean, paragraph))
    return lines, words


def confident_chars(words: list[OcrWord]) -> int:
    """Characters in words Tesseract is sure of (confidence >= SURE_CONF)."""
    return sum(len(w.text) for w in words if w.conf >= SURE_CONF)


def run_tesseract(png: bytes, exe: str, psm: int, timeout: float = PAGE_TIMEOUT_S) -> str:
    """Tesseract's hOCR for one page image (PNG bytes); :class:`OcrFailed` when it cannot read it."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # pages run side by side: one thread each
    cmd = [exe, "stdin", "stdout", "-l", LANGUAGE, "--psm", str(psm), "hocr"]
    try:
        res = subprocess.run(cmd, input=png, capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        raise OcrFailed(f"Tesseract gave no answer within {timeout:.0f} s") from exc
    except OSError as exc:
        raise OcrFailed(f"cannot run Tesseract: {exc.strerror or exc}") from exc
    if res.returncode != 0:
        why = [ln for ln in res.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
        raise OcrFailed(f"Tesseract failed (exit {res.returncode}): {why[-1] if why else 'no message'}")
    return res.stdout.decode("utf-8", "replace")


def recognise(png: bytes, scale: float, exe: str) -> list[OcrLine]:
    """The text lines of one page image, in points (``scale``: points per pixel).

    Tesseract's automatic layout analysis (:data:`PAGE_SEGMENTATION`) comes first. On a
    noisy scan (under NOISY_PAGE of its characters sure) it can take a speckled paragraph
    for a picture and skip it; then the page is read again as one block of text (mode 6),
    and that reading is kept when it is sure of clearly more characters (BLOCK_GAIN).
    """
    try:
        lines, words = parse_hocr(run_tesseract(png, exe, PAGE_SEGMENTATION), scale)
        total = sum(len(w.text) for w in words)
        if total and confident_chars(words) < NOISY_PAGE * total:
            block, block_words = parse_hocr(run_tesseract(png, exe, 6), scale)
            if confident_chars(block_words) > BLOCK_GAIN * confident_chars(words):
                lines = block
    except Exception as exc:  # noqa: BLE001 - malformed output is one unreadable page
        if isinstance(exc, OcrFailed):
            raise
        raise OcrFailed(f"cannot use Tesseract's output: {first_line(exc)}") from exc
    return lines


def first_line(exc: BaseException) -> str:
    """An exception's message, first line only (its type name when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
