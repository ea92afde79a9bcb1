"""BibTeX source: a Better BibTeX export, a JabRef library and a malformed file (tests/data/bibtex).

The exports point at copies of tests/data/pdfs; the tests lay the PDFs out where each file's
``file`` fields say they are (see tests/data/bibtex/README.md).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tinymodels import tiny_bert_dir  # noqa: F401 - fixture

from zsearch.errors import NotFound, RecordError
from zsearch.papers.model import Paper
from zsearch.sources.bibtex import file_field_paths, read_bibtex

DATA = Path(__file__).resolve().parent / "data"
BIB = DATA / "bibtex"
PDFS = DATA / "pdfs"


def bbt_export(root: Path) -> Path:
    """The Better BibTeX export with its PDFs where it says they are (all but Vaswani et al.)."""
    zotero, papers = root / "Zotero", root / "Papers"
    files = {
        zotero / "storage" / "D4H6TR2Z" / "Ammar et al. - 2018 - Construction of the Literature Graph in Semantic Scholar.pdf":
            PDFS / "acl_anthology" / "N18-3011.pdf",
        zotero / "storage" / "X7K2M9QP" / "Cohan et al. - 2020 - SPECTER Document-level Representation Learning "
                                          "using Citation-informed Transformers.pdf":
            PDFS / "acl_anthology" / "2020.acl-main.207.pdf",
        zotero / "storage" / "H8L2QX5T" / "Datta et al. - 2010 - Complications related to deep venous thrombosis "
                                          "prophylaxis in trauma.pdf":
            PDFS / "open_access_biomed" / "cermine_test1.pdf",
        papers / "Dinu_Baroni_2014.pdf": PDFS / "acl_anthology" / "P14-1059.pdf",
    }
    for dst, src in files.items():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    text = (BIB / "better-bibtex.bib").read_text(encoding="utf-8")
    out = root / "My Library.bib"
    out.write_text(text.replace("/home/ada/Zotero", str(zotero)).replace("/home/ada/Papers", str(papers)),
                   encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def bbt(tmp_path_factory):
    bib = bbt_export(tmp_path_factory.mktemp("bbt"))
    return bib, list(read_bibtex(bib))


def _papers(items) -> dict[str, Paper]:
    return {p.id: p for p in items if isinstance(p, Paper)}


def test_better_bibtex_export_gives_every_entry(bbt):
    bib, items = bbt
    papers = _papers(items)
    assert list(papers) == [
        "doi:10.18653/v1/n18-3011", "arxiv:2004.07180", "doi:10.1186/1752-2897-4-1", "bibtex:dinuHowMakeWords2014",
        "bibtex:manningIntroductionInformationRetrieval2008", "arxiv:1706.03762",
        "bibtex:worldhealthorganizationGlobalTuberculosisReport2023",
    ]
    assert all(p.source == "bibtex" for p in papers.values())
    specter = papers["arxiv:2004.07180"]
    assert specter.title == "SPECTER: Document-level Representation Learning Using Citation-informed Transformers"
    assert specter.authors == ["Arman Cohan", "Sergey Feldman", "Iz Beltagy", "Doug Downey", "Daniel Weld"]
    assert (specter.year, specter.published) == (2020, "2020-07")
    assert specter.doi == "10.18653/v1/2020.acl-main.207" and specter.arxiv_id == "2004.07180"
    assert specter.url == "https://doi.org/10.18653/v1/2020.acl-main.207"
    assert specter.categories == ["citation graph", "representation learning"]
    assert specter.abstract.startswith("Representation learning is a critical ingredient")
    assert specter.extra["citation_key"] == "cohanSPECTERDocumentlevelRepresentation2020"
    assert specter.extra["journal"] == "Proceedings of the 58th Annual Meeting of the Association for Computational Linguistics"
    assert specter.extra["pages"] == "2270–2282" and specter.extra["entry_type"] == "inproceedings"


def test_entries_with_a_pdf_are_read_in_full(bbt):
    bib, items = bbt
    papers = _papers(items)
    specter = papers["arxiv:2004.07180"]
    assert "SCIDOCS" in specter.full_text and len(specter.full_text) > 30_000
    assert specter.path.endswith(".pdf") and "X7K2M9QP" in specter.path  # the PDF, not the HTML snapshot
    ammar = papers["doi:10.18653/v1/n18-3011"]
    assert len(ammar.authors) == 23 and ammar.authors[21] == "Madeleine van Zuylen"
    assert "literature graph" in ammar.full_text.lower()
    datta = papers["doi:10.1186/1752-2897-4-1"]
    assert datta.extra["journal"] == "Journal of Trauma Management & Outcomes"  # \& decoded
    assert (datta.extra["volume"], datta.extra["issue"], datta.published) == ("4", "1", "2010-01")
    assert "thromboprophylaxis" in datta.full_text
    dinu = papers["bibtex:dinuHowMakeWords2014"]  # no DOI: the citation key names it
    assert dinu.title == "How to Make Words with Vectors: Phrase Generation in Distributional Semantics"
    assert dinu.path == str((bib.parent / "Papers" / "Dinu_Baroni_2014.pdf").resolve())
    assert "distributional" in dinu.full_text
    assert dinu.abstract.startswith("We introduce the problem of generation")  # the entry had none: from the PDF


def test_entries_without_pdf_are_stored_from_metadata(bbt):
    bib, items = bbt
    papers = _papers(items)
    book = papers["bibtex:manningIntroductionInformationRetrieval2008"]
    assert book.authors == ["Christopher D. Manning", "Prabhakar Raghavan", "Hinrich Schütze"]  # {\"u} decoded
    assert book.full_text == "" and book.path is None and book.year == 2008
    assert book.url == "https://nlp.stanford.edu/IR-book/" and book.categories == ["textbook"]
    who = papers["bibtex:worldhealthorganizationGlobalTuberculosisReport2023"]
    assert who.authors == ["World Health Organization"]  # a braced corporate author stays one name
    assert (who.year, who.published, who.title) == (2023, "2023-11", "Global Tuberculosis Report 2023")


def test_missing_pdf_is_named_and_the_entry_kept(bbt):
    bib, items = bbt
    errors = [x for x in items if isinstance(x, RecordError)]
    assert len(errors) == 1  # the HTML snapshot beside SPECTER's PDF is not a PDF: not reported
    assert errors[0].record == f"{bib}:78 (vaswaniAttentionAllYou2017)"
    assert "Vaswani et al. - 2017 - Attention Is All You Need.pdf" in errors[0].message
    assert "stored from its metadata" in errors[0].message
    vaswani = _papers(items)["arxiv:1706.03762"]
    assert vaswani.full_text == "" and vaswani.authors[6] == "Łukasz Kaiser"
    assert vaswani.extra["journal"] == "Advances in Neural Information Processing Systems 30"


def test_jabref_relative_file_fields(tmp_path):
    (tmp_path / "pdfs").mkdir()
    shutil.copyfile(PDFS / "acl_anthology" / "N18-3011.pdf", tmp_path / "pdfs" / "N18-3011.pdf")
    shutil.copyfile(PDFS / "acl_anthology" / "P14-1059.pdf", tmp_path / "pdfs" / "P14-1059.pdf")
    bib = tmp_path / "refs.bib"
    shutil.copyfile(BIB / "jabref.bib", bib)
    items = list(read_bibtex(bib))
    assert not [x for x in items if isinstance(x, RecordError)]
    papers = _papers(items)
    assert set(papers) == {"doi:10.18653/v1/n18-3011", "bibtex:Dinu2014"}
    assert papers["bibtex:Dinu2014"].path == str((tmp_path / "pdfs" / "P14-1059.pdf").resolve())
    assert "distributional" in papers["bibtex:Dinu2014"].full_text
    assert papers["doi:10.18653/v1/n18-3011"].authors[-2:] == ["Madeleine van Zuylen", "Oren Etzioni"]
    # the same library read from elsewhere: relative paths follow base_dir
    elsewhere = tmp_path / "elsewhere.bib"
    shutil.copyfile(BIB / "jabref.bib", elsewhere)
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.move(str(elsewhere), moved / "refs.bib")
    again = list(read_bibtex(moved / "refs.bib", base_dir=tmp_path, read_pdfs=True))
    assert [x.id for x in again if isinstance(x, Paper) and x.full_text] == ["doi:10.18653/v1/n18-3011",
                                                                             "bibtex:Dinu2014"]


def test_malformed_entries_are_named_and_the_rest_stored():
    bib = BIB / "malformed.bib"
    items = list(read_bibtex(bib))
    errors = {x.record: x.message for x in items if isinstance(x, RecordError)}
    assert list(errors) == [f"{bib}:9 (lo2020s2orc)", f"{bib}:24 (beltagy2019scibert)", f"{bib}:29 (wang2020cord19)",
                            f"{bib}:34 (reimers2019sbert)", f"{bib}:40 (notitle2021)"]
    assert errors[f"{bib}:9 (lo2020s2orc)"].startswith("cannot parse entry: Unexpected block start: `@inproceedings`")
    assert "used again" in errors[f"{bib}:24 (beltagy2019scibert)"]
    assert "Expected comma after entry key" in errors[f"{bib}:29 (wang2020cord19)"]
    assert errors[f"{bib}:34 (reimers2019sbert)"] == "entry repeats the field 'title'; skipped"
    assert errors[f"{bib}:40 (notitle2021)"] == "entry has no title; skipped"
    papers = _papers(items)
    assert list(papers) == ["arxiv:1903.10676", "doi:10.18653/v1/2020.emnlp-main.550", "doi:10.18653/v1/d19-1410"]
    assert papers["arxiv:1903.10676"].title == "SciBERT: A Pretrained Language Model for Scientific Text"
    assert papers["doi:10.18653/v1/2020.emnlp-main.550"].authors[1] == "Barlas Oğuz"
    assert papers["doi:10.18653/v1/d19-1410"].published == "2019-11"


@pytest.mark.parametrize("value, paths", [
    # Better BibTeX: plain paths joined by ";" (a snapshot beside the PDF)
    ("/home/ada/Zotero/storage/X7K2M9QP/a b.pdf;/home/ada/Zotero/storage/S5P2L8VD/snap.html",
     ["/home/ada/Zotero/storage/X7K2M9QP/a b.pdf"]),
    # Better BibTeX on Windows
    (r"C:\Users\ada\Zotero\storage\X7K2M9QP\a.pdf", [r"C:\Users\ada\Zotero\storage\X7K2M9QP\a.pdf"]),
    # JabRef: description:path:type, a Windows path with escaped colon and backslashes
    (r":C\:\\Users\\ada\\My Papers\\a.pdf:PDF", [r"C:\Users\ada\My Papers\a.pdf"]),
    ("Slides:pdfs/s.html:HTML;Full text:pdfs/p.pdf:PDF", ["pdfs/p.pdf"]),
    # Zotero's own BibTeX export with files; a URL is not a file
    ("Full Text PDF:files/12/Cohan et al. - 2020.pdf:application/pdf;Snapshot:files/13/x.html:text/html",
     ["files/12/Cohan et al. - 2020.pdf"]),
    ("Full Text PDF:https://arxiv.org/pdf/1706.03762v7:application/pdf", []),
    # Mendeley: LaTeX-escaped backslash before the drive colon; a type-less PDF without ".pdf"
    (r":C$\backslash$:/Users/ada/Documents/Mendeley Desktop/Vaswani 2017.pdf:pdf",
     ["C:/Users/ada/Documents/Mendeley Desktop/Vaswani 2017.pdf"]),
    (":home/ada/papers/scan:PDF", ["home/ada/papers/scan"]),
    ("", []),
])
def test_file_field_forms(value, paths):
    assert file_field_paths(value) == paths


def test_missing_file_and_latin1_export(tmp_path):
    with pytest.raises(NotFound, match="no such file") as exc:
        list(read_bibtex(tmp_path / "nope.bib"))
    assert exc.value.exit_code == 3
    old = tmp_path / "old-jabref.bib"
    old.write_bytes("% Encoding: ISO8859_1\n@book{iir, title = {Introduction to IR}, author = {Sch\xfctze, Hinrich}, "
                    "year = {2008}}\n".encode("latin-1"))
    (paper,) = list(read_bibtex(old))
    assert paper.authors == ["Hinrich Schütze"] and paper.id == "bibtex:iir"


def test_second_ingest_of_the_export_changes_nothing(tmp_path, tiny_bert_dir):
    from zsearch.library import Library

    bib = bbt_export(tmp_path / "export")
    db = Library.open(tmp_path / "db", model=str(tiny_bert_dir))
    first = db.ingest_papers(read_bibtex(bib))
    assert (first.added, first.unchanged, len(first.failed)) == (7, 0, 1)
    again = db.ingest_papers(read_bibtex(bib))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 7)
    assert "SCIDOCS" in db.get("arxiv:2004.07180").full_text


def test_cli_ingest_bibtex_names_bad_entries_and_stores_the_rest(tmp_path, tiny_bert_dir, capsys):
    import json

    from tests.conftest import run_cli
    from zsearch.library import Library

    db = tmp_path / "db"
    assert Library.open(db, model=str(tiny_bert_dir)).embedder  # a database of the tiny model
    bad = BIB / "malformed.bib"
    code, out, err = run_cli(["ingest", "bibtex", str(bad), "--db", str(db), "--format", "json"], capsys)
    report = json.loads(out)
    assert code == 1 and report["added"] == 3 and len(report["failed"]) == 5
    assert f"{bad}:40 (notitle2021)" in [f["record"] for f in report["failed"]]
    bib = bbt_export(tmp_path / "export")
    code, out, _ = run_cli(["ingest", "bibtex", str(bib), "--db", str(db), "--format", "json"], capsys)
    assert json.loads(out)["added"] >= 6
    assert "SCIDOCS" in Library.open(db).get("arxiv:2004.07180").full_text
