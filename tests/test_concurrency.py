"""Concurrency and crash safety of `zsearch refresh`, with real processes.

Each refresh here is a separate ``python`` process running the real CLI against the replay
server (real HTTP on 127.0.0.1, recorded arXiv/PubMed responses). The test process reads the
same database while a refresh runs, starts a second refresh that must exit 75 or wait, and
kills a refresh with SIGKILL; afterwards the database must open, search, and be completed by
the next refresh with no duplicate and no missing paper.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from replay import ReplayServer, Reply
from test_refresh import (
    EUTILS,
    FIVE,
    ROOT,
    esearch_body,
    one_model,  # noqa: F401  (fixture: the real model, loaded once per session)
    serve_sources,
    source_env,
)

PIPELINE_REGISTERED = re.search(r"^from zsearch\.cli import .*\bpipeline\b", (ROOT / "zsearch" / "cli" / "__init__.py")
                                .read_text(encoding="utf-8"), flags=re.M) is not None
# seconds any one step may take before the test gives up (generous: 2 shared CPU cores)
PATIENCE = 300


def zsearch_argv(*args: str) -> list[str]:
    """The real CLI in a fresh interpreter."""
    if PIPELINE_REGISTERED:
        return [sys.executable, "-m", "zsearch", *args]
    return [sys.executable, "-c", "import zsearch.cli.pipeline; from zsearch.cli import main; main()", *args]


def child_env(srv: ReplayServer, db: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(source_env(srv))
    env.update({"ZSEARCH_HOME": str(db), "NO_COLOR": "1", "HF_HUB_OFFLINE": "1"})
    return env


def wait_for(cond, what: str, proc: subprocess.Popen | None = None, timeout: float = PATIENCE) -> None:
    t0 = time.monotonic()
    while not cond():
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"process exited ({proc.returncode}) before {what}:\n{err[-3000:]}")
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def check_database(db: Path, expected: int) -> list[str]:
    """The database opens; ``expected`` papers, no duplicate ids, every passage has its paper."""
    from zsearch.store.tables import Store

    st = Store(db)
    ids = [r["id"] for r in st.rows(columns=["id"])]
    assert len(ids) == len(set(ids)), "duplicate paper ids"
    assert len(ids) == expected
    orphans = {r["paper_id"] for r in st.chunks.search().select(["paper_id"]).limit(100_000).to_list()} - set(ids)
    assert not orphans
    return ids


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)


@pytest.fixture
def server(monkeypatch):
    with ReplayServer() as srv:
        serve_sources(srv)
        for k, v in source_env(srv).items():  # for the refreshes this process runs itself
            monkeypatch.setenv(k, v)
        yield srv


def test_search_during_refresh_second_refresh_busy_then_kill_and_complete(tmp_path, server, one_model):
    """One refresh stalls mid-run (PubMed hangs) holding the lock, after committing arXiv papers:
    searches succeed and see whole commits; a second refresh exits 75; a third waits, gets the lock
    the moment the first is SIGKILLed, and completes the work: 20 papers, no duplicates."""
    from zsearch.library import Library
    from zsearch.ops.watch import Watch, Watches

    db = tmp_path / "db"
    ws = Watches(db)
    ws.add(Watch("a-se", arxiv="testing", max_results=15))
    ws.add(Watch("b-pm", pubmed=FIVE, max_results=5))  # 5 matches: --max 5 fetches them all
    esearch = EUTILS + "esearch.fcgi"
    body = esearch_body(5)
    server.add(esearch, {"term": FIVE}, Reply(200, body, delay=3000))  # hangs: the run stalls here
    env = child_env(server, db)

    first = subprocess.Popen(zsearch_argv("refresh", "--db", str(db), "--log-file", str(tmp_path / "first.log")),
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # read while it writes: every search sees a whole commit (0 or all 15 arXiv papers)
        searches = 0
        while not server.requests_to(esearch):
            if first.poll() is not None:
                raise AssertionError(f"refresh exited early: {first.communicate()[1][-3000:]}")
            lib = Library.open(db)
            if lib.store.exists:
                n = lib.store.count()
                assert n in (0, 15), f"a reader saw a partial batch: {n} papers"
                if n:
                    hits = lib.search("software testing techniques", k=5)
                    assert len(hits) == 5 and len({h.id for h in hits}) == 5
                    searches += 1
            time.sleep(0.2)
        assert json.loads((db / "refresh-state.json").read_text())["watches"]["a-se"]["last_status"] == "ok"

        # the refresh is stalled holding the lock: a search in this process succeeds ...
        lib = Library.open(db)
        hits = lib.search("software testing techniques", k=5)
        stored = set(check_database(db, 15))
        assert len(hits) == 5 and {h.id for h in hits} <= stored
        # ... and a second refresh gives up at once with 75 (and says so in JSON)
        busy = subprocess.run(zsearch_argv("refresh", "--db", str(db), "--format", "json"), env=env,
                              capture_output=True, text=True, timeout=PATIENCE)
        assert busy.returncode == 75, busy.stderr
        assert json.loads(busy.stdout)["status"] == "busy"
        assert f"pid {first.pid}" in busy.stderr

        # a third one waits for the lock
        third = subprocess.Popen(zsearch_argv("refresh", "--db", str(db), "--format", "json", "--wait", str(PATIENCE)),
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(1.0)
            assert third.poll() is None, third.communicate()[1]
            server.add(esearch, {"term": FIVE}, body)  # PubMed answers again from now on
            kill(first)  # SIGKILL mid-run: no cleanup code runs, the kernel drops the lock
            assert first.returncode == -signal.SIGKILL
            out, err = third.communicate(timeout=PATIENCE)
        finally:
            kill(third)
        assert third.returncode == 0, err
        summary = json.loads(out)
        assert summary["searches"]["b-pm"]["added"] == 5  # the killed run's unfinished search
        assert summary["searches"]["b-pm"]["sources"]["pubmed"]["since"] is None
        assert summary["searches"]["a-se"]["added"] == 0  # done before the kill, not redone
        assert summary["papers"] == 20
    finally:
        kill(first)
    ids = check_database(db, 20)
    hits = Library.open(db).search("cancer", k=3)
    assert {h.id for h in hits} <= set(ids)
    assert "a-se/arxiv: fetched 15, added 15" in (tmp_path / "first.log").read_text()


@pytest.mark.slow  # a third real process loading the model; the test above covers SIGKILL by default
def test_sigkill_while_writing_then_refresh_completes(tmp_path, server, one_model):
    """Kill a refresh as soon as it has created the tables (it is embedding or committing), then
    the database opens and the next refresh finishes: every paper once."""
    from zsearch.errors import EmptyDatabase
    from zsearch.library import Library
    from zsearch.ops.watch import Watch, Watches

    db = tmp_path / "db"
    Watches(db).add(Watch("se", arxiv="testing", max_results=15))
    Watches(db).add(Watch("pm", pubmed=FIVE, max_results=5))
    proc = subprocess.Popen(zsearch_argv("refresh", "--db", str(db)), env=child_env(server, db),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: (db / "lancedb" / "papers.lance").exists(), "the papers table", proc)
    finally:
        kill(proc)
    assert proc.returncode == -signal.SIGKILL
    lib = Library.open(db)
    n = lib.stats()["papers"]
    assert n in (0, 5, 20)  # whole commits only (pm: 5 papers, then se: 15)
    if n:
        assert len(lib.search("cancer", k=3)) == 3
    else:
        with pytest.raises(EmptyDatabase):
            lib.search("cancer")
    report = Library.open(db).refresh()
    assert report.exit_code == 0, report.to_dict()
    assert report.papers == 20
    check_database(db, 20)
    again = Library.open(db).refresh(overlap=100000)
    assert again.totals()["added"] == 0 and again.totals()["unchanged"] == 20
