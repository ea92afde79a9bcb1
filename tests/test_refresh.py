"""`zsearch refresh` in one process: idempotence, the JSON summary, failing sources, dry runs.

The sources are the real arXiv and PubMed clients talking HTTP to the replay server
(tests/replay.py) that serves recorded responses (tests/data/arxiv, tests/data/pubmed).
Embedding uses the real bundled model, loaded once for this module and the others that
import :func:`one_model` (concurrency and API-doc tests).
"""

from __future__ import annotations

import json
import re
import textwrap
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from replay import ReplayServer, Reply

import zsearch.cli.pipeline  # noqa: F401  (registers `watch` and `refresh` until cli/__init__ imports it)
from zsearch.errors import LockBusy, NotFound
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


def serve_sources(srv: ReplayServer) -> ReplayServer:
    """Recorded arXiv pages (``search_query=testing``…) and a PubMed search for ``cancer`` (5 records)."""
    srv.add_arxiv_recordings(ARXIV_REC)
    srv.add(EUTILS + "esearch.fcgi", {"term": "cancer"}, (EU / "esearch.pubmed.xml").read_bytes())
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


# -- against the replay server --------------------------------------------------------------------

def test_refresh_twice_second_changes_nothing(tmp_path, sources, one_model, capsys):
    db = tmp_path / "db"
    log_file = tmp_path / "logs" / "refresh.log"
    assert run_cli(["watch", "add", "se", "--arxiv", "testing", "--max", "15", "--db", str(db)], capsys)[0] == 0
    assert run_cli(["watch", "add", "pm", "--pubmed", "cancer", "--max", "5", "--db", str(db)], capsys)[0] == 0

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

    # a third run re-fetching everything (huge overlap): all unchanged, still nothing written
    code, out, _ = run_cli(["refresh", "se", "--overlap", "100000", "--format", "json", "--db", str(db)], capsys)
    third = json.loads(out)
    assert code == 0 and list(third["searches"]) == ["se"]
    assert third["searches"]["se"]["unchanged"] == 15 and third["totals"]["added"] == 0
    assert third["table_version"] == first["table_version"]
    assert sorted(stored_ids(db)) == sorted(ids)

    # pruning: versions older than 0 days go, the latest stays, and it still searches
    from zsearch.store.tables import Store

    assert len(Store(db).papers.list_versions()) > 1
    code, out, err = run_cli(["refresh", "pm", "--prune-older-than", "0", "--format", "json", "--db", str(db)], capsys)
    assert code == 0, err
    assert json.loads(out)["prune_older_than_days"] == 0
    st = Store(db)
    assert len(st.papers.list_versions()) == 1 and len(st.chunks.list_versions()) == 1
    assert sorted(stored_ids(db)) == sorted(ids)
    from zsearch.library import Library

    assert len(Library.open(db).search("software testing", k=3)) == 3

    code, out, _ = run_cli(["watch", "list", "--format", "json", "--db", str(db)], capsys)
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["se"]["last_status"] == "ok" and rows["se"]["last_success"]["arxiv"]


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


def test_dry_run_fetches_nothing_and_needs_no_lock(tmp_path, sources, capsys):
    from zsearch.ops.lock import writer_lock
    from zsearch.ops.watch import Watch, Watches

    db = tmp_path / "db"
    Watches(db).add(Watch("se", arxiv="testing", categories=["cs.SE"], since="2026-01-01"))
    with writer_lock(db, purpose="someone else"):
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
    lib.add_watch("pm", pubmed="cancer")
    with lib.lock(purpose="a test"):
        with pytest.raises(LockBusy, match="a test"):
            lib.refresh(wait=0.2)
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
