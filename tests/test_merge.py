"""merge_papers as pure functions, on records parsed from real arXiv / PubMed responses."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from zsearch.papers.merge import merge_papers, new_record_wins
from zsearch.papers.model import Paper
from zsearch.sources.arxiv import parse_papers
from zsearch.sources.pubmed import parse_efetch

DATA = Path(__file__).parent / "data"


def arxiv_paper() -> Paper:
    (p,) = parse_papers((DATA / "arxiv" / "api_2016" / "id_list_1111.2011v2.xml").read_bytes())
    return p


def pubmed_paper() -> Paper:
    items = parse_efetch((DATA / "pubmed" / "eutils" / "pubmed2.xml").read_bytes())
    return next(p for p in items if p.pmid == "11748933")


def pdf_paper(doi: str) -> Paper:
    return Paper(id=f"doi:{doi}", source="pdf", title="QUANTUM  CRITICALITY FOR EXTENDED\nNODES",
                 abstract="abstract as guessed from page one", authors=["J. Murray"], year=2012, doi=doi,
                 path="/papers/murray.pdf", full_text="1 Introduction\nThe body of the paper ...")


def test_same_record_twice_is_a_fixed_point():
    a = arxiv_paper()
    assert merge_papers(a, a) == a
    p = pubmed_paper()
    assert merge_papers(p, p) == p


def test_inputs_are_not_modified():
    a, p = arxiv_paper(), pubmed_paper()
    a0, p0 = replace(a, extra=dict(a.extra)), replace(p, extra=dict(p.extra))
    merge_papers(a, p)
    assert a == a0 and p == p0


def test_latest_arxiv_version_wins_in_either_order():
    v2 = arxiv_paper()
    v1 = replace(v2, title="Old title", abstract="Old abstract", extra={**v2.extra, "arxiv_version": 1})
    newer_last = merge_papers(v1, v2)
    older_last = merge_papers(v2, v1)
    for m in (newer_last, older_last):
        assert (m.title, m.abstract) == (v2.title, v2.abstract)
        assert m.extra["arxiv_version"] == 2
    assert new_record_wins(v1, v2) and not new_record_wins(v2, v1)


def test_pdf_body_and_record_abstract():
    a = arxiv_paper()
    pdf = pdf_paper(a.doi)
    for m in (merge_papers(a, pdf), merge_papers(pdf, a)):
        assert m.abstract == a.abstract           # the record's abstract, not the PDF's guess
        assert m.title == a.title                 # the record's title
        assert m.full_text == pdf.full_text       # the PDF's body
        assert m.path == "/papers/murray.pdf"
        assert set(m.sources) == {"arxiv", "pdf"}
        assert m.authors == a.authors
    # stored id is kept: the PDF came first here
    assert merge_papers(pdf, a).id == pdf.id
    assert merge_papers(a, pdf).id == a.id


def test_record_without_body_never_erases_it():
    a = arxiv_paper()
    with_body = merge_papers(a, pdf_paper(a.doi))
    again = merge_papers(with_body, a)
    assert again.full_text == with_body.full_text


def test_new_pdf_body_replaces_old_one():
    a = arxiv_paper()
    first = merge_papers(a, pdf_paper(a.doi))
    newer_pdf = replace(pdf_paper(a.doi), full_text="revised body")
    assert merge_papers(first, newer_pdf).full_text == "revised body"


def test_arxiv_plus_pubmed_remembers_both_and_fills_gaps():
    a = arxiv_paper()
    p = replace(pubmed_paper(), doi=a.doi)  # the same paper, met in PubMed
    m = merge_papers(a, p)
    assert m.id == a.id and m.sources == ["arxiv", "pubmed"]
    assert m.pmid == "11748933" and m.arxiv_id == "1111.2011"
    assert m.title == a.title and m.abstract == a.abstract  # equal rank: stored values stay
    assert m.extra["journal"] == "Cryobiology" and m.extra["arxiv_version"] == 2
    assert m.categories[:2] == a.categories and "Animals" in m.categories  # MeSH joined


def test_same_source_newer_record_replaces():
    p = pubmed_paper()
    revised = replace(p, title="Corrected title.", extra={**p.extra, "date_revised": "2020-01-01"})
    m = merge_papers(p, revised)
    assert m.title == "Corrected title." and m.extra["date_revised"] == "2020-01-01"


def test_title_normalised_for_display_only():
    pdf = pdf_paper("10.1/x")
    m = merge_papers(pdf, replace(pdf, title="Line-\nbroken   title"))
    assert m.title == "Linebroken title"
    assert m.id == "doi:10.1/x"
