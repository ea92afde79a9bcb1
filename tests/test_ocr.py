"""OCR of PDF pages without a text layer (zsearch.sources.pdf.ocr), on the shared real scans.

Ground truth: hand transcriptions of the two scans, next to them in
tests/data/pdfs/scanned_no_text_layer/*.gt.txt (see tests/data/pdfs/PROVENANCE.md).
Tests that run Tesseract skip when it is not installed; .ci/run installs it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from tests.conftest import PDFS, run_cli
from zsearch.errors import RecordError
from zsearch.library import Library
from zsearch.papers.model import Paper
from zsearch.sources.pdf import ocr
from zsearch.sources.pdf import tesseract as tess
from zsearch.sources.pdf.reader import iter_pdfs, read_pdf

SCANS = PDFS / "scanned_no_text_layer"
CERMINE = SCANS / "cermine_scanned_abstract_page.pdf"
HUCK = SCANS / "ocrmypdf_c02-22.pdf"
BORN_DIGITAL = PDFS / "acl_anthology" / "N18-3011.pdf"

# Character error rate allowed per scan: about twice what Tesseract 5.3.0 (Debian bookworm)
# gives here, in reading order after normalising quotes, dashes and spacing (docs/pdf.md):
# the speckled CERMINE conference page 7.7%, the Huckleberry Finn book page 5.1% (of which
# about 4 points are its figure caption, read between the page's last two lines).
CER_LIMIT = {CERMINE.name: 0.15, HUCK.name: 0.10}

needs_tesseract = pytest.mark.skipif(
    ocr.tesseract() is None,
    reason="Tesseract with English data is not installed (apt-get install tesseract-ocr tesseract-ocr-eng; "
    ".ci/run installs it)",
)


def normalise(text: str) -> str:
    """Text as compared for the error rate: NFKC, straight quotes, one kind of dash, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'",
                                         "\u2014": "-", "\u2013": "-"}))
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r" ([;:,.?!])", r"\1", text)  # old typesetting's space before a semicolon


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions of one character)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(recognised: str, truth: str) -> float:
    """Character error rate: edits from the recognised text to the truth, per character of truth."""
    r, t = normalise(recognised), normalise(truth)
    return edit_distance(r, t) / len(t)


def test_cer_counts_edits_per_character_of_truth() -> None:
    assert edit_distance("kitten", "sitting") == 3
    assert cer("widow\u2019s  garden ;", "widow's garden;") == 0
    assert cer("abcd", "abce") == 1 / 4


def test_hocr_lines_are_cut_at_gutters_and_noise_is_dropped() -> None:
    hocr = ('<html xmlns="http://www.w3.org/1999/xhtml"><body><p class="ocr_par" id="par_1_1">'
            '<span class="ocr_line" title="bbox 0 0 900 30; baseline 0 -5; x_size 27">'
            '<span class="ocrx_word" title="bbox 0 0 100 30; x_wconf 95">left</span>'
            '<span class="ocrx_word" title="bbox 120 0 300 30; x_wconf 95">column</span>'
            '<span class="ocrx_word" title="bbox 600 0 900 30; x_wconf 95">right</span></span>'
            '<span class="ocr_line" title="bbox 0 40 60 60; baseline 0 0; x_size 20">'
            '<span class="ocrx_word" title="bbox 0 40 60 60; x_wconf 20">ii</span></span></p></body></html>')
    lines, words = tess.parse_hocr(hocr, 72 / 300)
    # the wide gap (a gutter) cuts the line in two; the low-confidence speck is dropped
    assert [ln.text for ln in lines] == ["left column", "right"]
    assert len(words) == 4 and lines[0].size == pytest.approx(27 / 0.9 * 72 / 300)


# -- no Tesseract, or OCR turned off -----------------------------------------------------------
def test_without_tesseract_the_old_reason_stays_and_says_how_to_enable_ocr(monkeypatch) -> None:
    monkeypatch.setattr(ocr, "tesseract", lambda: None)
    with pytest.raises(RecordError) as info:
        read_pdf(HUCK)
    message = info.value.message
    assert message.startswith("no text layer (scanned pages?); OCR it first, e.g. with ocrmypdf")
    assert "apt-get install tesseract-ocr" in message and "brew install tesseract" in message
    assert "\n" not in message and info.value.record == str(HUCK.resolve())


def test_no_ocr_keeps_the_scan_unread_and_says_so(tmp_path, capsys) -> None:
    with pytest.raises(RecordError, match=r"^no text layer \(scanned pages\?\); OCR it first.*--no-ocr"):
        read_pdf(HUCK, ocr=False)
    code, out, err = run_cli(["ingest", "pdf", str(HUCK), "--db", str(tmp_path / "db"), "--no-ocr",
                              "--format", "json"], capsys)
    assert code == 1
    assert "--no-ocr" in json.loads(out)["failed"][0]["reason"]
    assert "OCR " not in err


# -- the shared scans ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scan_db(tmp_path_factory) -> tuple[Path, int, str, str]:
    """Both shared scans ingested with ``zsearch ingest pdf`` (OCR on by default): (db, code, out, err)."""
    if ocr.tesseract() is None:
        pytest.skip("Tesseract is not installed")
    db = tmp_path_factory.mktemp("ocr") / "db"
    env = {k: v for k, v in os.environ.items() if k not in ("ZSEARCH_MODEL", "ZSEARCH_CONFIG", "ZSEARCH_REVIEW_DIR")}
    env["ZSEARCH_HOME"] = str(db.parent / "home")  # module scope: the autouse private home is not set yet
    # a separate process, as a user runs it: pytest's log capture would take the progress lines
    r = subprocess.run([sys.executable, "-m", "zsearch", "ingest", "pdf", str(SCANS), "--db", str(db),
                        "--format", "json"], capture_output=True, text=True, timeout=900, env=env)
    return db, r.returncode, r.stdout, r.stderr


@needs_tesseract
def test_ingest_stores_both_scans_and_shows_pages_ocrd(scan_db) -> None:
    db, code, out, err = scan_db
    assert code == 0, err
    assert json.loads(out)["added"] == 2
    # progress: one plain line per OCR'd file on stderr
    for name in (CERMINE.name, HUCK.name):
        assert re.search(rf"^OCR {re.escape(name)}: 1 of 1 pages without text read in [\d.]+ s$", err, re.M), err


@needs_tesseract
@pytest.mark.parametrize("scan", [CERMINE, HUCK], ids=lambda p: p.stem)
def test_recognised_text_matches_the_transcription(scan_db, scan: Path) -> None:
    db = scan_db[0]
    paper = next(p for p in Library.open(db).papers() if p.path == str(scan.resolve()))
    truth = scan.with_suffix(".gt.txt").read_text(encoding="utf-8")
    rate = cer(paper.full_text, truth)
    print(f"CER {scan.name}: {rate:.4f}")
    assert rate < CER_LIMIT[scan.name], rate
    assert paper.extra["ocr_pages"] == [1] and paper.extra["pages"] == 1
    assert paper.id.startswith("sha256:") and paper.source == "pdf"


@needs_tesseract
@pytest.mark.parametrize("query, scan", [
    ("hydrogen incorporation in amorphous silicon from an expanding thermal plasma, deuterium isotope", CERMINE),
    ("Miss Watson's Jim listening at the kitchen door at night", HUCK),
], ids=["cermine", "huck"])
def test_scans_are_searchable(scan_db, query: str, scan: Path) -> None:
    hits = Library.open(scan_db[0]).search(query, k=2)
    assert hits[0].id == next(p.id for p in Library.open(scan_db[0]).papers() if p.path == str(scan.resolve()))


# -- only pages without text ---------------------------------------------------------------------
def _mixed_pdf(path: Path) -> Path:
    """Page 1 born-digital (N18-3011's first page), page 2 the Huckleberry Finn scan stored on
    its side and turned upright by the page's /Rotate (as scanners write landscape pages), page 3 blank."""
    import pymupdf

    doc = pymupdf.open()
    doc.insert_pdf(pymupdf.open(BORN_DIGITAL), from_page=0, to_page=0)
    scan = pymupdf.open(HUCK)
    image = scan.extract_image(scan[0].get_images()[0][0])["image"]
    page = doc.new_page(width=scan[0].rect.height, height=scan[0].rect.width)
    page.insert_image(page.rect, stream=image, rotate=90)
    page.set_rotation(90)
    doc.new_page()
    doc.save(path)
    return path


def test_a_text_layer_pdf_is_not_ocrd(monkeypatch) -> None:
    def no_ocr(*args, **kwargs):
        raise AssertionError("a page with a text layer went to OCR")

    monkeypatch.setattr(ocr, "recognise", no_ocr)
    monkeypatch.setattr(ocr, "tesseract", lambda: "/usr/bin/tesseract")  # as if installed
    paper = read_pdf(BORN_DIGITAL)
    assert "ocr_pages" not in paper.extra


@needs_tesseract
def test_only_the_page_without_text_is_ocrd_and_a_turned_page_is_read_upright(tmp_path, monkeypatch) -> None:
    seen: list[int] = []
    real = ocr.recognise

    def counting(png: bytes, scale: float, exe: str):
        seen.append(int.from_bytes(png[16:20], "big"))  # PNG width
        return real(png, scale, exe)

    monkeypatch.setattr(ocr, "recognise", counting)
    paper = read_pdf(_mixed_pdf(tmp_path / "mixed.pdf"))
    assert paper.extra["ocr_pages"] == [2] and "ocr_failed_pages" not in paper.extra
    assert len(seen) == 1  # the blank page is not sent to Tesseract either
    assert "Semantic Scholar" in paper.full_text
    assert "went tip-toeing along a path amongst the trees" in paper.full_text  # read upright


# -- pages Tesseract cannot read -----------------------------------------------------------------
@needs_tesseract
def test_tesseract_failures_are_one_line() -> None:
    exe = ocr.tesseract()
    with pytest.raises(tess.OcrFailed) as info:
        tess.run_tesseract(b"not an image", exe, 3)
    assert str(info.value).startswith("Tesseract failed (exit ") and "\n" not in str(info.value)
    png = HUCK.read_bytes()  # any input: no answer in a millisecond
    with pytest.raises(tess.OcrFailed, match="Tesseract gave no answer within"):
        tess.run_tesseract(png, exe, 3, timeout=0.001)


@needs_tesseract
def test_an_unreadable_page_is_named_and_the_paper_keeps_its_other_pages(tmp_path, monkeypatch) -> None:
    import pymupdf

    doc = pymupdf.open()
    doc.insert_pdf(pymupdf.open(HUCK))  # rendered 800 px wide (the scan's 150 dpi)
    doc.insert_pdf(pymupdf.open(CERMINE))  # rendered 1354 px wide (300 dpi)
    path = tmp_path / "two-scans.pdf"
    doc.save(path)
    real = tess.run_tesseract

    def fails_on_wide_pages(png: bytes, exe: str, psm: int, timeout: float = tess.PAGE_TIMEOUT_S) -> str:
        if int.from_bytes(png[16:20], "big") > 1000:
            return real(b"not an image", exe, psm)  # a real Tesseract failure
        return real(png, exe, psm, timeout)

    monkeypatch.setattr(tess, "run_tesseract", fails_on_wide_pages)
    out = list(iter_pdfs([path]))
    assert [type(x) for x in out] == [RecordError, Paper]
    warning, paper = out
    assert warning.record == str(path.resolve())
    assert re.match(r"page 2: OCR could not read it \(Tesseract failed \(exit \d+\): .+\); the paper is stored without it$",
                    warning.message), warning.message
    assert paper.extra["ocr_pages"] == [1] and paper.extra["ocr_failed_pages"] == [2]
    assert "tip-toeing" in paper.full_text

    # when no page can be read, the file fails with the first page's reason
    with pytest.raises(RecordError, match=r"^no text layer \(scanned pages\?\), and OCR could not read it: page 1: "):
        read_pdf(CERMINE)
