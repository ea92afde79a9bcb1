"""zsearch.review.export: RIS and BibTeX round-trip through rispy and bibtexparser; CSV, JSONL, inputs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from zsearch.errors import UsageError
from zsearch.papers.model import Paper
from zsearch.review.export import (
    citation_key,
    export_papers,
    theme_keyword,
    to_bibtex,
    to_csv,
    to_jsonl,
    to_ris,
)
from zsearch.review.selection_files import read_id_list, themes_from_cluster_json

DATA = Path(__file__).parent / "data" / "clustering"


@pytest.fixture(scope="module")
def pubmed_papers() -> list[Paper]:
    """Three real PubMed records (authors, journals, a structured abstract)."""
    from zsearch.sources.dumps import read_pubmed_xml

    papers = [p for p in read_pubmed_xml(DATA / "ncbiutils_pubmed22n1115.xml") if isinstance(p, Paper)]
    assert len(papers) == 3
    return papers


@pytest.fixture(scope="module")
def mixed_papers(pubmed_papers) -> list[Paper]:
    """The PubMed records, an arXiv preprint and a PDF without identifiers, with awkward characters."""
    arxiv = Paper(
        id="arxiv:2004.07180", source="arxiv", arxiv_id="2004.07180",
        title="SPECTER: Document-level Representation Learning using Citation-informed Transformers",
        abstract="Representation learning & {citation} graphs: 100% of the {curly} cases, #1.",
        authors=["Arman Cohan", "Sergey Feldman", "Iz Beltagy", "Doug Downey", "Daniel S. Weld"],
        year=2020, categories=["cs.CL"],
    )
    pdf = Paper(id="sha256:" + "ab" * 32, source="pdf", title="Über die Grundlagen {unbalanced", abstract="")
    return [*pubmed_papers, arxiv, pdf]


def test_ris_round_trips_through_rispy(mixed_papers):
    import rispy

    themes = {mixed_papers[0].id: (2, "moral behavior, light"), mixed_papers[3].id: (1, "citation, transformers")}
    text = to_ris(mixed_papers, themes)
    back = rispy.loads(text)
    assert len(back) == len(mixed_papers)
    for p, r in zip(mixed_papers, back):
        assert r["id"] == p.id
        assert r.get("title", "") == " ".join(p.title.split())
        assert r.get("authors", []) == p.authors
        if p.year:
            assert r["year"] == str(p.year)
        if p.doi:
            assert r["doi"] == p.doi
    assert theme_keyword(2, "moral behavior, light") in back[0]["keywords"]
    assert back[3]["keywords"] == [theme_keyword(1, "citation, transformers"), "cs.CL"]
    assert back[0]["type_of_reference"] == "JOUR" and back[0]["secondary_title"] == "Psychological science"
    assert back[0]["accession_number"] == "22395128"
    assert back[3]["type_of_reference"] == "UNPB" and back[3]["urls"] == ["https://arxiv.org/abs/2004.07180"]
    assert back[4]["type_of_reference"] == "GEN"
    # the structured abstract stays whole, on one line
    assert back[2]["abstract"].startswith(mixed_papers[2].abstract.split()[0])
    assert "\n" not in back[2]["abstract"]


def test_bibtex_round_trips_through_bibtexparser(mixed_papers):
    import bibtexparser

    themes = {mixed_papers[3].id: (1, "citation, transformers")}
    lib = bibtexparser.parse_string(to_bibtex(mixed_papers, themes))
    assert not lib.failed_blocks
    assert len(lib.entries) == len(mixed_papers)
    keys = [e.key for e in lib.entries]
    assert len(set(keys)) == len(keys)
    by_note = {e.fields_dict["note"].value.removeprefix("zsearch id: "): e for e in lib.entries}
    for p in mixed_papers[:3]:
        e = by_note[p.id]
        assert e.entry_type == "article"
        assert e.fields_dict["title"].value == " ".join(p.title.split())
        assert e.fields_dict["author"].value.split(" and ") == p.authors
        assert e.fields_dict["year"].value == str(p.year)
        assert e.fields_dict["journal"].value == p.extra["journal"]
        assert e.fields_dict["pmid"].value == p.pmid
    spec = by_note["arxiv:2004.07180"]
    assert spec.entry_type == "misc" and spec.key == "cohan2020specter"
    assert spec.fields_dict["eprint"].value == "2004.07180"
    assert spec.fields_dict["keywords"].value == "zsearch theme 1: citation; transformers, cs.CL"
    # LaTeX specials escaped; balanced braces kept
    assert spec.fields_dict["abstract"].value == (
        r"Representation learning \& {citation} graphs: 100\% of the {curly} cases, \#1."
    )
    # unbalanced braces dropped rather than breaking the file
    assert by_note["sha256:" + "ab" * 32].fields_dict["title"].value == "Über die Grundlagen unbalanced"


def test_citation_keys_are_ascii_and_made_unique():
    a = Paper(id="doi:10.1/a", source="pubmed", title="The Ωmega study", authors=["José Núñez"], year=2001)
    b = Paper(id="doi:10.1/b", source="pubmed", title="The Ωmega study", authors=["José Núñez"], year=2001)
    assert citation_key(a) == "nunez2001mega"
    import bibtexparser

    keys = [e.key for e in bibtexparser.parse_string(to_bibtex([a, b])).entries]
    assert keys == ["nunez2001mega", "nunez2001megaa"]


def test_csv_has_asreview_columns_and_parses_back(mixed_papers):
    rows = list(csv.DictReader(io.StringIO(to_csv(mixed_papers, {mixed_papers[1].id: (3, "hedgehog, wnt")}))))
    assert len(rows) == len(mixed_papers)
    assert {"title", "abstract", "authors", "keywords", "doi"} <= set(rows[0])
    assert rows[1]["theme"] == "3" and rows[1]["theme_label"] == "hedgehog, wnt"
    assert rows[1]["authors"] == "; ".join(mixed_papers[1].authors)
    assert rows[0]["theme"] == ""


def test_jsonl_keeps_lists(mixed_papers):
    lines = [json.loads(line) for line in to_jsonl(mixed_papers).splitlines()]
    assert [r["id"] for r in lines] == [p.id for p in mixed_papers]
    assert lines[3]["authors"][0] == "Arman Cohan"
    assert "full_text" not in lines[0]


def test_unknown_format_names_the_choices(mixed_papers):
    with pytest.raises(UsageError, match="bibtex, ris, csv, jsonl"):
        export_papers(mixed_papers, "endnote")


def test_read_id_list_accepts_plain_csv_and_jsonl_lines():
    text = "# my picks\nid\npmid:1\n\narxiv:2004.07180,some title\npmid:1\n" + json.dumps({"id": "doi:10.1/x", "rank": 1})
    assert read_id_list(text) == ["pmid:1", "arxiv:2004.07180", "doi:10.1/x"]


def test_themes_from_cluster_json():
    obj = {"themes": [{"theme": 1, "label": "a, b", "ids": ["x", "y"]}, {"theme": 2, "label": "c", "ids": ["z"]}]}
    ids, themes = themes_from_cluster_json(obj)
    assert ids == ["x", "y", "z"]
    assert themes == {"x": (1, "a, b"), "y": (1, "a, b"), "z": (2, "c")}
    with pytest.raises(UsageError):
        themes_from_cluster_json({"hits": []})
