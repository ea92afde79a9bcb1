"""`zsearch refresh` in one process: idempotence, the JSON summary, failing sources, dry runs.

The sources are the real arXiv and PubMed clients talking HTTP to the replay server
(tests/replay.py) that serves recorded responses (tests/data/arxiv, tests/data/pubmed).
Embedding uses the real bundled model, loaded once for this module and the others that
import :func:`one_model` (concurrency and API-doc tests).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import textwrap
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from replay import ReplayServer, Reply

import zsearch.cli.pipeline  # noqa: F401  (registers `watch` and `refresh` until cli/__init__ imports it)
from zsearch.errors import LockBusy, NotFound, UsageError
from zsearch.ops.refresh import (
    RefreshReport,
    SearchResult,
    SourceResult,
    is_commit_conflict,
    retry_conflicts,
    since_date,
)

DATA = Path(__file__).parent / "data"
ARXIV_REC = DATA / "arxiv" / "api_2026"
EU = DATA / "pubmed" / "eutils"
EUTILS = "/entrez/eutils/"
ROOT = Path(__file__).resolve().parents[1]

_MODEL: dict[str, object] = {}


def shared_embedder():
    """The real bundled model, loaded once per test session (other modules import this)."""
    if "minilm" not in _MODEL:
        from zsearch.embedding.embedder import load_embedder

        _MODEL["minilm"] = load_embedder("minilm", device="cpu")
    return _MODEL["minilm"]


def is_bundled_minilm(name: str) -> bool:
    """``minilm`` or the model id a database made with it stores."""
    from zsearch.embedding.profiles import resolve_profile

    return resolve_profile(name).model_id == resolve_profile("minilm").model_id


@pytest.fixture
def one_model(monkeypatch):
    """Every Library opened in this process gets the same real model instead of loading it again."""
    import zsearch.embedding.embedder as embed

    emb = shared_embedder()
    real = embed.load_embedder

    def load(name: str = "minilm", **kw):
        return emb if is_bundled_minilm(name) else real(name, **kw)

    monkeypatch.setattr(embed, "load_embedder", load)
    return emb


# A PubMed query whose search matches exactly the 5 records of the recorded efetch (pubmed.xml).
FIVE = "sleep apnea[mh] AND 2022[dp]"


def esearch_body(count: int, webenv: str | None = None) -> bytes:
    """The recorded esearch answer (15,169 hits for ``cancer``) with another count (and WebEnv): a test-time change."""
    body = (EU / "esearch.pubmed.xml").read_bytes().replace(b"<Count>15169</Count>", f"<Count>{count}</Count>".encode())
    if webenv:
        body = re.sub(rb"<WebEnv>[^<]*</WebEnv>", f"<WebEnv>{webenv}</WebEnv>".encode(), body)
    return body


def serve_sources(srv: ReplayServer) -> ReplayServer:
    """Recorded arXiv pages (``search_query=testing``…, 214,881 matches) and PubMed searches: ``cancer``
    (15,169 matches) and :data:`FIVE` (5), both answered by the same 5 recorded records."""
    srv.add_arxiv_recordings(ARXIV_REC)
    srv.add(EUTILS + "esearch.fcgi", {"term": "cancer"}, (EU / "esearch.pubmed.xml").read_bytes())
    srv.add(EUTILS + "esearch.fcgi", {"term": FIVE}, esearch_body(5))
    srv.add(EUTILS + "efetch.fcgi", {"retstart": "0"}, (EU / "pubmed.xml").read_bytes())
    return srv


def source_env(srv: ReplayServer) -> dict[str, str]:
    return {"ZSEARCH_ARXIV_URL": srv.url + "/api/query", "ZSEARCH_EUTILS_URL": srv.url + EUTILS}


@pytest.fixture
def sources(monkeypatch):
    with ReplayServer() as srv:
        serve_sources(srv)
        for k, v in source_env(srv).items():
            monkeypatch.setenv(k, v)
        yield srv


from tests.conftest import run_cli  # noqa: E402,F401


def stored_ids(db: Path) -> list[str]:
    from zsearch.store.tables import Store

    return [r["id"] for r in Store(db).rows(columns=["id"])]


# -- pure parts ---------------------------------------------------------------------------------

def test_since_date_subtracts_the_overlap():
    t = datetime(2026, 3, 10, 2, 30, tzinfo=timezone.utc)
    assert since_date(t, 1, None) == date(2026, 3, 9)
    assert since_date(t, 0, "2020-01-01") == date(2026, 3, 10)
    assert since_date(t, 0.5, None) == date(2026, 3, 9)  # 14:30 the day before
    assert since_date(None, 1, "2020-01-01") == date(2020, 1, 1)
    assert since_date(None, 1, None) is None


def test_retry_conflicts_retries_only_commit_conflicts():
    calls, sleeps = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("lance error: Retryable commit conflict for version 12: This Rewrite transaction "
                               "was preempted by concurrent transaction Update at version 12. Please retry.")
        return "done"

    assert retry_conflicts(flaky, sleep=sleeps.append, base=0.5) == "done"
    assert len(calls) == 3 and sleeps == [0.5, 1.0]
    with pytest.raises(ValueError):
        retry_conflicts(lambda: (_ for _ in ()).throw(ValueError("schema mismatch")), sleep=sleeps.append)
    assert not is_commit_conflict(OSError("disk full"))

    def always():
        raise RuntimeError("Retryable commit conflict for version 3")

    with pytest.raises(RuntimeError):
        retry_conflicts(always, attempts=3, sleep=sleeps.append, base=1)
    assert sleeps[-2:] == [1, 2]


def test_report_status_and_exit_codes():
    ok = SourceResult("arxiv", "q", None, fetched=3, added=3)
    bad = SourceResult("pubmed", "q", None, error="PubMed esearch failed: HTTP 400")
    rec = SourceResult("arxiv", "q", None, fetched=2, added=1, failed=[("arxiv:x", "bad entry")])
    assert RefreshReport([SearchResult("a", [ok])]).exit_code == 0
    assert RefreshReport([]).exit_code == 0
    assert RefreshReport([SearchResult("a", [ok, bad])]).exit_code == 1
    assert RefreshReport([SearchResult("a", [rec])]).exit_code == 1
    assert RefreshReport([SearchResult("a", [bad]), SearchResult("b", [ok])]).exit_code == 1
    assert RefreshReport([SearchResult("a", [bad]), SearchResult("b", [bad])]).exit_code == 7
    d = SearchResult("a", [ok, rec]).to_dict()
    assert (d["fetched"], d["added"], d["failed"], d["status"]) == (5, 4, 1, "partial")
    # a source that ran but left part of its window behind: partial, listed under "incomplete"
    cut = SourceResult("pubmed", "q", None, fetched=5, added=5,
                       incomplete=[{"reason": "max", "message": "cut short by --max 5"}])
    r = RefreshReport([SearchResult("a", [ok, cut])])
    assert r.exit_code == 1 and r.to_dict()["incomplete"] == [
        {"search": "a", "source": "pubmed", "since": None, "reason": "max", "message": "cut short by --max 5"}]
    assert not cut.complete and ok.complete and not rec.complete
    # every source refused as too broad for a first run: a usage error (2), not a network failure (7)
    refused = SourceResult("pubmed", "q", None, error="matches 5,000,000 records", refused=True)
    assert RefreshReport([SearchResult("a", [refused])]).exit_code == 2
    assert RefreshReport([SearchResult("a", [refused]), SearchResult("b", [bad])]).exit_code == 7
    assert RefreshReport([SearchResult("a", [refused]), SearchResult("b", [ok])]).exit_code == 1


# -- against the replay server --------------------------------------------------------------------

def test_refresh_twice_second_changes_nothing(tmp_path, sources, one_model, capsys, monkeypatch):
    db = tmp_path / "db"
    log_file = tmp_path / "logs" / "refresh.log"
    assert run_cli(["watch", "add", "se", "--arxiv", "testing", "--max", "15", "--db", str(db)], capsys)[0] == 0
    assert run_cli(["watch", "add", "pm", "--pubmed", FIVE, "--db", str(db)], capsys)[0] == 0

    code, out, err = run_cli(["refresh", "--format", "json", "--db", str(db), "--log-file", str(log_file)], capsys)
    assert code == 0, err
    first = json.loads(out)
    assert first["status"] == "ok" and first["exit_code"] == 0 and first["papers"] == 20
    for name, n in (("se", 15), ("pm", 5)):
        s = first["searches"][name]
        assert {"fetched", "added", "updated", "unchanged", "failed", "seconds"} <= set(s)
        assert (s["fetched"], s["added"], s["updated"], s["unchanged"], s["failed"]) == (n, n, 0, 0, 0)
        assert s["seconds"] >= 0 and s["status"] == "ok"
    assert first["totals"] == {"fetched": 20, "added": 20, "updated": 0, "unchanged": 0, "failed": 0}
    assert first["incomplete"] == [] and first["searches"]["se"]["sources"]["arxiv"]["complete"] is True
    assert first["searches"]["se"]["sources"]["arxiv"]["since"] is None  # first run: from the beginning
    ids = stored_ids(db)
    assert len(ids) == 20 == len(set(ids))
    logged = log_file.read_text()
    assert "se/arxiv: fetched 15, added 15" in logged and "pm/pubmed: fetched 5, added 5" in logged
    assert "\x1b[" not in err and "\x1b[" not in logged  # no colour codes when not a terminal

    # second run: since = last success - 1 day; PubMed's recording still answers its 5 records
    n_requests = len(sources.requests)
    code, out, err = run_cli(["refresh", "--format", "json", "--db", str(db)], capsys)
    second = json.loads(out)
    assert code == 0 and second["totals"]["added"] == 0 and second["totals"]["updated"] == 0
    assert second["searches"]["pm"]["unchanged"] == 5
    assert second["table_version"] == first["table_version"]  # nothing was written at all
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).date()
    assert second["searches"]["se"]["sources"]["arxiv"]["since"] in (yesterday.isoformat(),
                                                                    (yesterday - timedelta(days=1)).isoformat())
    later = sources.requests[n_requests:]
    es = [r for r in later if r.path.endswith("esearch.fcgi")][0]
    assert es.params["datetype"] == "edat" and es.params["mindate"] == second["searches"]["pm"]["sources"][
        "pubmed"]["since"].replace("-", "/")
    ax = [r for r in later if r.path == "/api/query"][0]
    assert ax.params["sortBy"] == "submittedDate"  # newest first, stop at the since date

    # a third run re-fetching everything (huge overlap): all unchanged, still nothing written; walked
    # newest first from 1752, the 15 of --max are not the whole window, which stays where it was
    code, out, _ = run_cli(["refresh", "se", "--overlap", "100000", "--format", "json", "--db", str(db)], capsys)
    third = json.loads(out)
    assert code == 1 and list(third["searches"]) == ["se"]
    assert [(x["search"], x["reason"]) for x in third["incomplete"]] == [("se", "max")]
    assert third["searches"]["se"]["unchanged"] == 15 and third["totals"]["added"] == 0
    assert third["table_version"] == first["table_version"]
    assert sorted(stored_ids(db)) == sorted(ids)
    code, out, _ = run_cli(["refresh", "se", "--dry-run", "--format", "json", "--db", str(db)], capsys)
    assert json.loads(out)["searches"]["se"]["sources"]["arxiv"]["since"] in yesterday_or_before()  # not 1752

    # pruning at age 0 keeps the last hour's versions (a search may be reading one) ...
    from zsearch.store.tables import Store

    n_versions = len(Store(db).papers.list_versions()), len(Store(db).chunks.list_versions())
    assert n_versions[0] > 1
    code, out, err = run_cli(["refresh", "pm", "--prune-older-than", "0", "--format", "json", "--db", str(db)], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["prune_older_than_days"] == 0 and d["prune_floor_hours"] == 1 and d["pruned"] == {"papers": 0, "chunks": 0}
    assert (len(Store(db).papers.list_versions()), len(Store(db).chunks.list_versions())) == n_versions
    # ... unless the floor is lowered: then every version but the latest goes
    monkeypatch.setenv("ZSEARCH_REFRESH_PRUNE_FLOOR_HOURS", "0")
    code, out, err = run_cli(["refresh", "pm", "--prune-older-than", "0", "--format", "json", "--db", str(db)], capsys)
    assert code == 0, err
    assert json.loads(out)["pruned"]["papers"] == n_versions[0] - 1
    st = Store(db)
    assert len(st.papers.list_versions()) == 1 and len(st.chunks.list_versions()) == 1
    assert sorted(stored_ids(db)) == sorted(ids)
    from zsearch.library import Library

    assert len(Library.open(db).search("software testing", k=3)) == 3

    code, out, _ = run_cli(["watch", "list", "--format", "json", "--db", str(db)], capsys)
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["se"]["last_status"] == "partial" and rows["se"]["last_success"]["arxiv"]  # the third run's cut


def test_failing_source_does_not_stop_the_other(tmp_path, sources, one_model, capsys):
    from zsearch.library import Library

    sources.add(EUTILS + "esearch.fcgi", {"term": "broken"},
                Reply(400, b"<eSearchResult><ERROR>Invalid query</ERROR></eSearchResult>"))
    lib = Library.open(tmp_path / "db")
    lib.add_watch("mixed", arxiv="testing", pubmed="broken", max_results=10)
    report = lib.refresh()
    d = report.to_dict()
    assert report.exit_code == 1 and d["status"] == "partial"
    m = d["searches"]["mixed"]
    assert m["sources"]["arxiv"]["added"] == 10 and m["sources"]["arxiv"]["error"] is None
    assert "HTTP 400" in m["sources"]["pubmed"]["error"] and m["errors"][0].startswith("pubmed:")
    assert lib.stats()["papers"] == 10
    from zsearch.ops.watch import Watches

    st = Watches(lib.home).state()["mixed"]
    assert set(st["sources"]) == {"arxiv"}  # PubMed never succeeded: it starts over next time
    assert st["last_status"] == "partial"

    # every source failing is a total failure: exit 7
    lib.add_watch("dead", pubmed="broken")
    assert lib.refresh(["dead"]).exit_code == 7
    code, out, _ = run_cli(["refresh", "dead", "--format", "json", "--db", str(lib.home)], capsys)
    assert code == 7 and json.loads(out)["status"] == "failed"
    code, out, err = run_cli(["refresh", "dead", "--db", str(lib.home)], capsys)
    assert code == 7 and out == ""
    assert "dead: failed: fetched 0, added 0" in err and "error: pubmed: PubMed esearch" in err
    assert "refresh failed" in err

    # fixed upstream: the next refresh fetches PubMed from the beginning, arXiv since yesterday
    sources.add(EUTILS + "esearch.fcgi", {"term": "broken"}, (EU / "esearch.pubmed.xml").read_bytes())
    again = lib.refresh(["mixed"]).to_dict()["searches"]["mixed"]["sources"]
    assert again["pubmed"]["since"] is None and again["pubmed"]["added"] == 5
    assert again["arxiv"]["since"] is not None and again["arxiv"]["added"] == 0
    assert lib.stats()["papers"] == 15


def state_of(db: Path, name: str, source: str) -> dict:
    return json.loads((db / "refresh-state.json").read_text())["watches"][name]["sources"].get(source, {})


def yesterday_or_before() -> tuple[str, str]:
    y = (datetime.now(timezone.utc) - timedelta(days=1)).date()
    return y.isoformat(), (y - timedelta(days=1)).isoformat()


def test_failed_record_keeps_the_window_and_is_fetched_again(tmp_path, sources, one_model, capsys):
    """A record that cannot be read (no title, no abstract) leaves the window where it was:
    exit 1, ``incomplete`` in the summary, and the next run fetches the same window again."""
    db = tmp_path / "db"
    good = (EU / "pubmed.xml").read_bytes()
    # the first record of the recorded efetch, with its title and abstract taken out (a test-time change)
    first, rest = good.split(b"</PubmedArticle>", 1)
    first = re.sub(rb"<ArticleTitle>.*?</ArticleTitle>", b"<ArticleTitle/>", first, flags=re.S)
    first = re.sub(rb"<Abstract>.*?</Abstract>", b"", first, flags=re.S)
    sources.add(EUTILS + "esearch.fcgi", {"term": "flaky"}, esearch_body(5, "FLAKY"))
    route = sources.add(EUTILS + "efetch.fcgi", {"WebEnv": "FLAKY"}, first + b"</PubmedArticle>" + rest)
    assert run_cli(["watch", "add", "pm", "--pubmed", "flaky", "--since", "2020-01-01", "--db", str(db)], capsys)[0] == 0

    code, out, err = run_cli(["refresh", "--format", "json", "--db", str(db)], capsys)
    d = json.loads(out)
    assert code == 1 and d["status"] == "partial", err
    src = d["searches"]["pm"]["sources"]["pubmed"]
    assert (src["fetched"], src["added"], src["failed"], src["complete"]) == (5, 4, 1, False)
    assert src["failures"][0]["record"] == "pmid:35196497"
    assert [(x["search"], x["source"], x["reason"], x["since"]) for x in d["incomplete"]] == [
        ("pm", "pubmed", "failed", "2020-01-01")]
    assert "incomplete, fetched again next run from 2020-01-01" in err
    assert "last_success" not in state_of(db, "pm", "pubmed") and state_of(db, "pm", "pubmed")["incomplete"]

    # the next run asks for the same window again; the record reads now, and the window advances
    route.replies = [Reply(200, good)]
    code, out, err = run_cli(["refresh", "--format", "json", "--db", str(db)], capsys)
    d = json.loads(out)
    src = d["searches"]["pm"]["sources"]["pubmed"]
    assert code == 0 and src["since"] == "2020-01-01", err
    assert (src["added"], src["unchanged"], src["complete"]) == (1, 4, True) and d["incomplete"] == []
    assert len(stored_ids(db)) == 5 and state_of(db, "pm", "pubmed")["last_success"]
    code, out, _ = run_cli(["refresh", "--format", "json", "--db", str(db)], capsys)
    assert json.loads(out)["searches"]["pm"]["sources"]["pubmed"]["since"] in yesterday_or_before()


def test_pdf_that_failed_to_download_is_fetched_again(tmp_path, one_model, capsys, monkeypatch):
    """--full-text: a PDF that cannot be downloaded keeps the paper (abstract only) but not the
    window; the next run downloads it and the paper gets its full text."""
    pdf = (DATA / "pdfs" / "open_access_biomed" / "cermine_test1.pdf").read_bytes()  # short: 4 pages

    def local_pdf_links(body: bytes, srv: ReplayServer) -> bytes:  # as a mirror would
        return body.replace(b"https://arxiv.org/pdf/", srv.url.encode() + b"/pdf/")

    monkeypatch.setenv("ZSEARCH_REFRESH_FIRST_RUN_LIMIT", "0")  # no count first (tested on its own below)
    with ReplayServer(rewrite=local_pdf_links) as srv:
        serve_sources(srv)
        for k, v in source_env(srv).items():
            monkeypatch.setenv(k, v)
        srv.add("/pdf/2202.12139v1", {}, Reply(200, pdf, content_type="application/pdf"))
        # newest first from 2022-01-01: the recorded page's first two papers (2022, 2024), then one from 2020 ends it
        db = tmp_path / "db"
        assert run_cli(["watch", "add", "ft", "--arxiv", "testing", "--full-text", "--since", "2022-01-01",
                        "--db", str(db)], capsys)[0] == 0
        code, out, err = run_cli(["refresh", "--format", "json", "--db", str(db)], capsys)
        src = json.loads(out)["searches"]["ft"]["sources"]["arxiv"]
        assert code == 1, err
        assert src["added"] == 2 and [f["record"] for f in src["failures"]] == ["arxiv:2405.13786"]
        assert "HTTP 404" in src["failures"][0]["reason"] and src["incomplete"][0]["reason"] == "failed"

        srv.add("/pdf/2405.13786v1", {}, Reply(200, pdf, content_type="application/pdf"))
        code, out, err = run_cli(["refresh", "--format", "json", "--db", str(db)], capsys)
        src = json.loads(out)["searches"]["ft"]["sources"]["arxiv"]
        assert code == 0 and src["since"] == "2022-01-01", err
        assert (src["updated"], src["unchanged"], src["failed"]) == (1, 1, 0)
    from zsearch.library import Library

    assert all(p.full_text for p in Library.open(db).papers())


def test_max_cut_newest_first_keeps_the_window(tmp_path, sources, one_model, capsys):
    """--max cuts a window walked newest first (PubMed; arXiv from a start date): the older
    records were never fetched, so the window stays and the run says so."""
    db = tmp_path / "db"
    assert run_cli(["watch", "add", "pm", "--pubmed", "cancer", "--max", "5", "--db", str(db)], capsys)[0] == 0
    assert run_cli(["watch", "add", "se", "--arxiv", "testing", "--since", "2000-01-01", "--max", "10",
                    "--db", str(db)], capsys)[0] == 0
    code, out, err = run_cli(["refresh", "--format", "json", "--db", str(db)], capsys)
    d = json.loads(out)
    assert code == 1 and d["status"] == "partial", err
    assert d["totals"]["added"] == 15 and d["totals"]["failed"] == 0
    assert sorted((x["search"], x["reason"]) for x in d["incomplete"]) == [("pm", "max"), ("se", "max")]
    pm = d["searches"]["pm"]["sources"]["pubmed"]
    assert "cut short by --max 5 of 15,169" in pm["incomplete"][0]["message"] and pm["complete"] is False
    assert "cut short by --max 10" in d["searches"]["se"]["incomplete"][0]
    assert "last_success" not in state_of(db, "pm", "pubmed") and "last_success" not in state_of(db, "se", "arxiv")
    # the next run starts from the same place
    code, out, _ = run_cli(["refresh", "--format", "json", "--db", str(db)], capsys)
    d = json.loads(out)
    assert code == 1 and d["searches"]["pm"]["sources"]["pubmed"]["since"] is None
    assert d["searches"]["se"]["sources"]["arxiv"]["since"] == "2000-01-01"


def test_capped_pubmed_day_keeps_the_window(tmp_path, sources, one_model, capsys, monkeypatch):
    """A day with more records than one ESearch returns (10,000; lowered to 3 here, so that a
    day of 4 records is over it) cannot be fetched whole: the window stays, reported as capped."""
    import zsearch.sources.pubmed as pubmed

    monkeypatch.setattr(pubmed, "ESEARCH_CAP", 3)
    sources.add(EUTILS + "esearch.fcgi", {"term": "busy"}, esearch_body(4, "BUSY"))  # 4 records every day
    sources.add(EUTILS + "efetch.fcgi", {"WebEnv": "BUSY"}, (EU / "pubmed.xml").read_bytes())
    db = tmp_path / "db"
    since = (date.today() - timedelta(days=1)).isoformat()
    assert run_cli(["watch", "add", "pm", "--pubmed", "busy", "--since", since, "--db", str(db)], capsys)[0] == 0
    code, out, err = run_cli(["refresh", "--format", "json", "--db", str(db)], capsys)
    d = json.loads(out)
    assert code == 1, err
    assert [x["reason"] for x in d["incomplete"]] == ["capped"]
    assert "2 day(s) hold more than 3 records" in d["incomplete"][0]["message"]
    assert "last_success" not in state_of(db, "pm", "pubmed")
    code, out, _ = run_cli(["refresh", "--format", "json", "--db", str(db)], capsys)
    assert json.loads(out)["searches"]["pm"]["sources"]["pubmed"]["since"] == since


def test_first_run_over_the_limit_stops_before_fetching(tmp_path, sources, one_model, capsys, monkeypatch):
    """A first run whose query matches more than the first-run limit fetches nothing, says how
    many records match and how to narrow it, and exits 2 (every source refused)."""
    # arXiv's count: one request for one result, its totalResults (214,881 for the recorded `testing`)
    sources.add("/api/query", {"search_query": "testing", "max_results": "1"},
                Reply(200, (ARXIV_REC / "xml_bodies" / "q_testing_s0_m10_bc5a6c384fe9.xml").read_bytes()))
    # the code before this check walked PubMed day by day: fail fast there instead of for hours
    sources.add(EUTILS + "esearch.fcgi", {"term": "cancer", "datetype": "edat"},
                Reply(400, b"<eSearchResult><ERROR>not in this test</ERROR></eSearchResult>"))
    db = tmp_path / "db"
    assert run_cli(["watch", "add", "ax", "--arxiv", "testing", "--db", str(db)], capsys)[0] == 0
    code, out, err = run_cli(["refresh", "--format", "json", "--db", str(db)], capsys)
    d = json.loads(out)
    assert code == 2 and d["status"] == "failed", err
    msg = d["searches"]["ax"]["sources"]["arxiv"]["error"]
    assert "matches 214,881 records in all of its history, more than a first refresh fetches (50,000)" in msg
    assert "--since YYYY-MM-DD" in msg and "--max N" in msg and "--first-run-limit" in msg
    assert "Traceback" not in err
    assert [r.params["max_results"] for r in sources.requests] == ["1"]  # the count, nothing fetched
    assert not (db / "refresh-state.json").exists() or "last_success" not in state_of(db, "ax", "arxiv")

    # PubMed's `cancer` (15,169) under a limit of 10,000 from the environment; with arXiv refused too
    monkeypatch.setenv("ZSEARCH_REFRESH_FIRST_RUN_LIMIT", "10000")
    assert run_cli(["watch", "add", "pm", "--pubmed", "cancer", "--db", str(db)], capsys)[0] == 0
    n = len(sources.requests)
    code, out, err = run_cli(["refresh", "pm", "--format", "json", "--db", str(db)], capsys)
    d = json.loads(out)
    assert code == 2 and d["first_run_limit"] == 10_000, err
    assert "pubmed query 'cancer' matches 15,169 records in all of its history" in d["searches"]["pm"]["errors"][0]
    assert [r.path for r in sources.requests[n:]] == [EUTILS + "esearch.fcgi"] and d["papers"] == 0
    code, _, err = run_cli(["refresh", "pm", "--db", str(db)], capsys)
    assert code == 2 and "error: pubmed: pubmed query 'cancer' matches 15,169 records" in err

    # narrowed by --max, it runs (the N most relevant: the whole of what was asked)
    assert run_cli(["watch", "add", "ax", "--arxiv", "testing", "--max", "10", "--replace", "--db", str(db)],
                   capsys)[0] == 0
    code, out, err = run_cli(["refresh", "ax", "--format", "json", "--db", str(db)], capsys)
    assert code == 0 and json.loads(out)["totals"]["added"] == 10, err
    from zsearch.ops.refresh import first_run_records

    monkeypatch.delenv("ZSEARCH_REFRESH_FIRST_RUN_LIMIT")
    assert first_run_records({"refresh": {"first_run_limit": 200}}, None) == 200
    assert first_run_records({"refresh": {"first_run_limit": 200}}, 0) == 0  # the flag wins; 0: no limit
    with pytest.raises(UsageError, match="whole number"):
        first_run_records({"refresh": {"first_run_limit": -1}})


@contextlib.contextmanager
def lock_held_elsewhere(db: Path, purpose: str):
    """The writer lock of ``db``, held by another process (this one's is reentrant) for the block."""
    hold = ("import sys, time\nfrom zsearch.ops.lock import writer_lock\n"
            "with writer_lock(sys.argv[1], purpose=sys.argv[2]):\n    print('held', flush=True)\n    time.sleep(600)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", hold, str(db), purpose], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_dry_run_fetches_nothing_and_needs_no_lock(tmp_path, sources, capsys):
    from zsearch.ops.watch import Watch, Watches

    db = tmp_path / "db"
    Watches(db).add(Watch("se", arxiv="testing", categories=["cs.SE"], since="2026-01-01"))
    with lock_held_elsewhere(db, "someone else"):
        code, out, err = run_cli(["refresh", "--dry-run", "--format", "json", "--db", str(db)], capsys)
        assert code == 0, err
        plan = json.loads(out)
        assert plan["dry_run"] is True
        src = plan["searches"]["se"]["sources"]["arxiv"]
        assert src["query"] == "(testing) AND cat:cs.SE" and src["since"] == "2026-01-01"
        code, _, err = run_cli(["refresh", "--dry-run", "--db", str(db)], capsys)
        assert "se/arxiv: would fetch '(testing) AND cat:cs.SE' since 2026-01-01" in err
        # a real run cannot start while the lock is held: exit 75, with a JSON answer for scripts
        code, out, err = run_cli(["refresh", "--format", "json", "--db", str(db)], capsys)
        assert code == 75 and json.loads(out)["status"] == "busy" and "someone else" in err
    assert sources.requests == []
    assert not (db / "lancedb").exists()


def test_refresh_without_watches_and_unknown_name(tmp_path, sources, capsys):
    db = tmp_path / "db"
    code, out, err = run_cli(["refresh", "--format", "json", "--db", str(db)], capsys)
    assert code == 0 and json.loads(out)["searches"] == {} and "no saved searches" in err
    code, _, err = run_cli(["refresh", "nope", "--db", str(db)], capsys)
    assert code == 3 and "no saved search named 'nope'" in err


def test_library_refresh_honours_the_lock(tmp_path, sources):
    from zsearch.library import Library

    lib = Library.open(tmp_path / "db")
    lib.add_watch("pm", pubmed=FIVE)
    with lock_held_elsewhere(lib.home, "a test"):
        with pytest.raises(LockBusy, match="a test"):
            lib.refresh(wait=0.2)
    assert sources.requests == []
    with pytest.raises(NotFound):
        lib.remove_watch("nope")


# -- docs/api.md: every python block runs --------------------------------------------------------

def api_doc_blocks() -> list[str]:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    return [textwrap.dedent(b) for b in re.findall(r"```python\n(.*?)```", text, flags=re.S)]


def test_api_docs_examples_run(tmp_path, monkeypatch, sources, one_model, capsys):
    """The examples in docs/api.md run, in order, in one namespace, against a temp database."""
    blocks = api_doc_blocks()
    assert len(blocks) >= 5
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZSEARCH_HOME", str(tmp_path / "papers-db"))
    (tmp_path / "papers").mkdir()
    import shutil

    # one short real paper: enough to show ingest without minutes of embedding
    shutil.copy(DATA / "pdfs" / "open_access_biomed" / "cermine_test1.pdf", tmp_path / "papers")
    ns: dict[str, object] = {"__name__": "__api_doc__"}
    assert not (tmp_path / "papers-db").exists()
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"docs/api.md block {i + 1}", "exec"), ns)
        except Exception as exc:  # name the block that broke
            raise AssertionError(f"docs/api.md python block {i + 1} failed: {exc!r}\n{block}") from exc
    assert (tmp_path / "papers-db" / "watches.json").exists()  # relative paths: the temp dir
    assert "TY  -" in (tmp_path / "review.ris").read_text(encoding="utf-8")
    capsys.readouterr()
