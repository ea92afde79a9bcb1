"""PDF source: reading order, metadata and failures, on real PDFs (tests/data/pdfs).

Ground truth comes with the files: S2ORC JSON for N18-3011, science-parse labels for
P14-1059, CERMINE's JATS front matter for cermine_test1 (see tests/data/pdfs/PROVENANCE.md).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from zsearch.errors import NotFound, RecordError
from zsearch.papers.model import Paper
from zsearch.sources.pdf.layout import find_gutter
from zsearch.sources.pdf.metadata import find_arxiv_id, find_doi, split_names
from zsearch.sources.pdf.reader import iter_pdf_paths, iter_pdfs, read_pdf
from zsearch.sources.pdf.text import extract_pages, join_hyphenated

DATA = Path(__file__).resolve().parent / "data" / "pdfs"
SPECTER = DATA / "acl_anthology" / "2020.acl-main.207.pdf"
N18 = DATA / "acl_anthology" / "N18-3011.pdf"
P14 = DATA / "acl_anthology" / "P14-1059.pdf"
BMC = DATA / "open_access_biomed" / "cermine_test1.pdf"
BAD = {
    DATA / "broken" / "ocrmypdf_invalid.pdf": "not a readable PDF",
    DATA / "broken" / "N18-3011_truncated_60pct.pdf": "not a readable PDF",
    DATA / "encrypted" / "libreoffice-writer-password.pdf": "encrypted PDF (password required)",
    DATA / "scanned_no_text_layer" / "ocrmypdf_c02-22.pdf": "no text layer (scanned pages?); OCR it first",
    DATA / "scanned_no_text_layer" / "cermine_scanned_abstract_page.pdf": "no text layer (scanned pages?); OCR it first",
}


def norm(s: str) -> str:
    """Lower-case letters and digits only: compares text regardless of spacing and quotes."""
    return re.sub(r"[^a-z0-9]+", "", s.lower())


@pytest.fixture(scope="module")
def papers() -> dict[str, Paper]:
    return {p.name: read_pdf(p) for p in (SPECTER, N18, P14, BMC)}


# -- paths ---------------------------------------------------------------------------------
def test_iter_pdf_paths_walks_folders_sorted_and_matches_any_case(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    shutil.copy(P14, tmp_path / "b" / "Z.PDF")
    shutil.copy(P14, tmp_path / "a.pdf")
    (tmp_path / "notes.txt").write_text("not a pdf")
    single = tmp_path / "b" / "Z.PDF"
    assert list(iter_pdf_paths([tmp_path])) == [tmp_path / "a.pdf", tmp_path / "b" / "Z.PDF"]
    assert list(iter_pdf_paths([single])) == [single]


def test_missing_path_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no such file or folder"):
        list(iter_pdf_paths([tmp_path / "nope.pdf"]))
    with pytest.raises(NotFound):
        list(iter_pdfs([tmp_path / "nope"]))


# -- metadata ------------------------------------------------------------------------------
def test_specter_metadata(papers: dict[str, Paper]) -> None:
    p = papers[SPECTER.name]
    assert p.title == "SPECTER: Document-level Representation Learning using Citation-informed Transformers"
    # as printed on page one (the PDF info has "Daniel Weld")
    assert p.authors == [
        "Arman Cohan",
        "Sergey Feldman",
        "Iz Beltagy",
        "Doug Downey",
        "Daniel S. Weld",
    ]
    # first and last sentence of the abstract in 2020.acl-main.207.json (S2ORC)
    assert p.abstract.startswith(
        "Representation learning is a critical ingredient for natural language processing systems."
    )
    assert norm(p.abstract).endswith(norm("outperforms a variety of competitive baselines on the benchmark. 1"))
    assert "Introduction" not in p.abstract
    assert p.year == 2020
    assert p.doi is None and p.arxiv_id is None
    sha = hashlib.sha256(SPECTER.read_bytes()).hexdigest()
    assert p.id == f"sha256:{sha}"
    assert p.source == "pdf" and p.sources == ["pdf"]
    assert p.path == str(SPECTER.resolve())
    assert p.extra == {"pages": 13, "file_sha256": sha}


def test_n18_metadata_matches_s2orc(papers: dict[str, Paper]) -> None:
    gt = json.loads((DATA / "acl_anthology" / "N18-3011.json").read_text())
    p = papers[N18.name]
    assert p.title == gt["title"]
    assert [a.split()[-1] for a in p.authors] == [a["last"].split()[-1] for a in gt["authors"]]
    gt_abstract = gt["pdf_parse"]["abstract"][0]["text"]
    # S2ORC appends the abstract's footnote ("Due to space constraints, ..."); we keep it a footnote
    assert norm(gt_abstract).startswith(norm(p.abstract))
    assert len(p.abstract) > 0.8 * len(gt_abstract)
    # printed "c⃝2017" by the 2018 template; the proceedings line says 2018
    assert p.year == 2018


def test_p14_metadata_matches_science_parse_labels(papers: dict[str, Paper]) -> None:
    labels: dict[str, list[str]] = {}
    for line in (DATA / "acl_anthology" / "P14-1059-labels.txt").read_text().splitlines():
        key, _, value = line.partition("\t")
        labels.setdefault(key, []).append(value.strip())
    extraction = {
        k: v for k, v in json.loads((DATA / "acl_anthology" / "P14-1059.extraction.json").read_text()) if k != "line"
    }
    p = papers[P14.name]
    assert p.title == labels["TITLE"][0] == extraction["title"]
    assert p.authors == labels["AUTHOR"]
    assert norm(p.abstract) == norm(labels["ABSTRACT"][0])
    assert p.year == extraction["year"]


def test_bmc_metadata_matches_jats_front_matter(papers: dict[str, Paper]) -> None:
    root = ET.parse(DATA / "open_access_biomed" / "cermine_test1-metadata.xml").getroot()
    meta = root.find("front/article-meta")
    assert meta is not None
    doi = meta.findtext("article-id[@pub-id-type='doi']")
    p = papers[BMC.name]
    assert p.doi == doi == "10.1186/1752-2897-4-1"
    assert p.id == "doi:10.1186/1752-2897-4-1"
    assert p.url == "https://doi.org/10.1186/1752-2897-4-1"
    assert p.title == meta.findtext("title-group/article-title")
    assert p.authors == [n.text for n in meta.iter("string-name")]
    assert norm(p.abstract) == norm(meta.findtext("abstract/p") or "")
    assert p.year == int(meta.findtext("pub-date/year") or 0)


# -- reading order -------------------------------------------------------------------------
def test_sentences_continue_across_column_and_page_breaks(papers: dict[str, Paper]) -> None:
    text = papers[SPECTER.name].full_text
    # page 1: the left column ends "...representing individual words", the right one begins
    # "or sentences, extensions to whole-document em-|beddings"
    assert (
        "are widely used for representing individual words or sentences, extensions to whole-document embeddings"
        in text
    )
    # page 2 ends "...of a paper, separated by" above two footnotes; page 3 goes on "the [SEP] token"
    assert "of the title and abstract of a paper, separated by the [SEP] token." in text
    # the footnotes follow that paragraph instead of cutting it
    assert text.index("separated by the [SEP]") < text.index("We also experimented with additional fields")


def test_columns_do_not_interleave(papers: dict[str, Paper]) -> None:
    """N18-3011's body paragraphs come whole, in the order S2ORC gives them.

    Each long paragraph's start, middle and end are found in order and close together (a
    column read line by line across the page would tear them apart), and the paragraphs'
    order agrees with S2ORC's.
    """
    gt = json.loads((DATA / "acl_anthology" / "N18-3011.json").read_text())
    text = norm(papers[N18.name].full_text)
    # S2ORC puts footnotes inline as paragraphs ("5 The TagMe APIs are ... 6 We use v3", and
    # footnote 4 without its number); we put them after the paragraph they interrupt, so
    # they are left out here
    footnote = re.compile(r"\d+ ?[A-Z]|We also experimented with a \"pure\"")
    paras = [norm(p["text"]) for p in gt["pdf_parse"]["body_text"] if not footnote.match(p["text"])]
    paras = [p for p in paras if len(p) >= 120]
    starts, whole = [], 0
    for para in paras:
        frags = (para[:60], para[len(para) // 2 : len(para) // 2 + 60], para[-60:])
        pos = [text.find(f) for f in frags]
        if min(pos) < 0:
            continue  # math or footnote marks that S2ORC writes differently
        whole += 1
        starts.append(pos[0])
        assert pos[0] < pos[1] < pos[2] <= pos[0] + len(para), para[:60]
    assert whole >= 0.85 * len(paras)
    # longest increasing subsequence of the paragraph starts (patience sorting)
    tails: list[int] = []
    for x in starts:
        k = bisect.bisect_left(tails, x)
        tails[k : k + 1] = [x]
    assert len(tails) == len(starts)
    assert starts == sorted(starts)


def test_headers_and_page_numbers_are_dropped(papers: dict[str, Paper]) -> None:
    text = papers[BMC.name].full_text
    # BMC's running head "Datta et al. Journal of Trauma Management & Outcomes 2010, 4:1"
    # and "Page 2 of 4" are on every page
    assert "Page 2 of 4" not in text
    assert text.count("http://www.traumamanagement.org/content/4/1/1") <= 1
    pages = extract_pages(SPECTER)
    assert len(pages) == 13
    assert not any(re.match(r"^\d{4}\b", pg) for pg in pages[1:])  # "2271" page numbers


def test_hyphens_are_mended_from_the_document_itself(papers: dict[str, Paper]) -> None:
    text = papers[SPECTER.name].full_text
    assert "critical ingredient" in text  # "ingre-|dient"
    assert "Citation-informed" in text  # broken at its own hyphen, kept: the title spells it so
    assert "ingre-" not in text


# -- pure helpers --------------------------------------------------------------------------
def test_join_hyphenated() -> None:
    assert join_hyphenated("ingre", "dient", set()) == "ingredient"
    assert join_hyphenated("state-of-the", "art", {"state-of-the-art"}) == "state-of-the-art"
    assert join_hyphenated("pre", "training", {"pre-training"}) == "pre-training"
    assert join_hyphenated("pre", "training", {"pretraining", "pre-training"}) == "pretraining"
    assert join_hyphenated("BERT", "based", set()) == "BERT-based"


def test_find_gutter() -> None:
    two = [(72, 100, 290, 700), (306, 100, 527, 700), (100, 50, 500, 80)]
    assert find_gutter(two, 595) == 298.0  # middle of the empty strip 291..305
    assert find_gutter([(72, 100, 527, 700)], 595) is None
    assert find_gutter([(72, 100, 290, 700)], 595) is None  # nothing on the right


def test_find_ids() -> None:
    assert find_arxiv_id("arXiv:2004.07180v4 [cs.CL] 20 May 2020") == "2004.07180v4"
    assert find_arxiv_id("arXiv:hep-th/9901001v2") == "hep-th/9901001v2"
    assert find_arxiv_id("BERT. arXiv preprint arXiv:1810.04805") is None
    assert find_doi("doi:10.1155/2010/157939.") == "10.1155/2010/157939"
    assert find_doi("no identifier here") is None
    assert split_names("Nuala E. Tully, Karen M. Morgan, and Hannah M. McGee") == [
        "Nuala E. Tully",
        "Karen M. Morgan",
        "Hannah M. McGee",
    ]
    assert split_names("University of Washington, Seattle") == []


# -- failures ------------------------------------------------------------------------------
@pytest.mark.parametrize("path", list(BAD), ids=lambda p: p.name)
def test_unreadable_files_raise_record_error(path: Path) -> None:
    with pytest.raises(RecordError) as info:
        read_pdf(path, ocr=False)  # OCR of the scans: tests/test_ocr.py
    assert str(info.value.message).startswith(BAD[path])
    assert info.value.record == str(path.resolve())
    assert "\n" not in str(info.value)


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(RecordError, match="empty file"):
        read_pdf(empty)


def test_iter_pdfs_reports_bad_files_and_goes_on() -> None:
    out = list(iter_pdfs([DATA], ocr=False))
    names = [Path(x.path if isinstance(x, Paper) else x.record).name for x in out]
    assert names == [p.name for p in iter_pdf_paths([DATA])]  # every file, in path order
    good = {x.title for x in out if isinstance(x, Paper)}
    bad = {Path(x.record): x.message for x in out if isinstance(x, RecordError)}
    assert len(good) == 4
    expected = {p.resolve(): why for p, why in BAD.items()}
    assert set(bad) == set(expected)
    for path, message in bad.items():
        assert message.startswith(expected[path])


# -- parsing in worker processes (iter_pdfs(workers=N)) -------------------------------------------


def _items(out: list) -> list[tuple]:
    """What a consumer sees of iter_pdfs' items, comparable across runs."""
    return [(type(x).__name__, x.path, x.title, x.full_text) if isinstance(x, Paper)
            else (type(x).__name__, x.record, x.message) for x in out]


def test_worker_processes_give_what_one_process_gives_in_path_order() -> None:
    alone = list(iter_pdfs([DATA], ocr=False, workers=0))
    pooled = list(iter_pdfs([DATA], ocr=False, workers=2))
    assert len(alone) >= 8
    assert _items(pooled) == _items(alone)


def test_a_worker_killed_mid_file_fails_that_file_only(monkeypatch) -> None:
    """A real SIGKILL of the parser process (what a segfault in PyMuPDF does): that file is
    reported, every file before and after it is read as usual, in order."""
    alone = list(iter_pdfs([DATA], ocr=False, workers=0))
    victim = next(Path(x.path) for x in alone if isinstance(x, Paper))
    monkeypatch.setenv("ZSEARCH_KILL_AT", f"pdf-parse:{victim.name}")
    pooled = list(iter_pdfs([DATA], ocr=False, workers=2))
    want = [("RecordError", str(victim), "the PDF reader crashed on this file") if it[:2] == ("Paper", str(victim))
            else it for it in _items(alone)]
    assert _items(pooled) == want
