"""The crash-safety proof: real writers SIGKILLed between every pair of LanceDB commits.

A real ``zsearch ingest pdf`` (papers with bodies, so passages are written) and a real
``zsearch refresh`` (against recorded arXiv/PubMed responses over real HTTP on 127.0.0.1)
run as separate processes. ``ZSEARCH_KILL_AT=POINT:N`` makes a writer SIGKILL itself the
N-th time it reaches a step of the store's one commit path (zsearch.store.tables.commit);
others are killed by the test at chosen moments. Kills are chained: each run is killed at
the next point, then resumes the previous run's work. After every kill the database opens
(opening settles the killed writer's commit) and must hold these invariants:

* no duplicate passage ids, no passage without its paper;
* every paper has exactly its own passages (as many as ``n_chunks``, of its version) and
  its sentence vectors;
* a search returns no title-less hit.

The last run is not killed; the database then holds exactly the rows of an uninterrupted run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from replay import ReplayServer
from test_refresh import FIVE, serve_sources, source_env

DATA = Path(__file__).parent / "data"
PDFS = [DATA / "pdfs" / "acl_anthology" / "N18-3011.pdf", DATA / "pdfs" / "acl_anthology" / "P14-1059.pdf",
        DATA / "pdfs" / "acl_anthology" / "2020.acl-main.207.pdf",
        DATA / "pdfs" / "open_access_biomed" / "cermine_test1.pdf"]
# The steps of one commit, in order (zsearch.store.tables.commit).
STEPS = ["commit.journal-written", "commit.leftovers-deleted", "commit.passages-added", "commit.papers-merged",
         "commit.old-passages-deleted"]
PATIENCE = 600  # seconds one run may take on 2 shared cores before the test gives up
KILLS: Counter[str] = Counter()  # kill points exercised, reported at the end of each test


def run(args: list[str], env: dict[str, str], kill_at: str | None = None) -> subprocess.CompletedProcess:
    """One real zsearch process; ``kill_at`` = ``POINT:N`` makes it SIGKILL itself there."""
    env = dict(env)
    if kill_at:
        env["ZSEARCH_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, "-m", "zsearch", *args], env=env, capture_output=True, text=True,
                          timeout=PATIENCE)


def snapshot(db: Path) -> dict[str, tuple]:
    """Check the invariants after opening the database the way zsearch does; ``{id: (version, passages)}``."""
    from zsearch.library import Library

    lib = Library.open(db, create=False)  # settles a killed writer's half-done commit
    st = lib.store
    if not st.exists:
        return {}
    papers = {r["id"]: r for r in st.rows(columns=["id", "title", "content_hash", "n_chunks", "sentences"])}
    chunks = st.chunks.search().select(["id", "paper_id", "paper_hash"]).limit(1_000_000).to_list()
    ids = [c["id"] for c in chunks]
    assert len(ids) == len(set(ids)), "duplicate passage ids"
    assert {c["paper_id"] for c in chunks} <= set(papers), "a passage without its paper"
    per_paper: dict[str, list[str]] = {}
    for c in chunks:
        assert c["paper_hash"] == papers[c["paper_id"]]["content_hash"], f"{c['id']} is of another version"
        per_paper.setdefault(c["paper_id"], []).append(c["id"])
    for pid, r in papers.items():
        assert len(per_paper.get(pid, [])) == r["n_chunks"], f"{pid} lacks passages"
        assert r["sentences"] is not None, f"{pid} lacks sentence vectors"
    if papers:
        hits = lib.search("retrieval", k=10)
        assert hits and all(h.title for h in hits), "a title-less hit"
    return {pid: (r["content_hash"], sorted(per_paper.get(pid, []))) for pid, r in papers.items()}


def kill_chain(args: list[str], env: dict[str, str], db: Path, points: list[str]) -> dict[str, tuple]:
    """Run ``args`` killed at each of ``points`` in turn, checking the invariants after each kill;
    then once more to completion. Returns the final snapshot."""
    for point in points:
        proc = run(args, env, kill_at=point)
        if proc.returncode != -signal.SIGKILL:
            # nothing left to write at this point: the work is already complete
            assert proc.returncode in (0, 1), proc.stderr[-3000:]
            break
        KILLS[point.rsplit(":", 1)[0]] += 1
        snapshot(db)
    final = run(args, env)
    assert final.returncode in (0, 1), final.stderr[-3000:]
    return snapshot(db)


def timed_kills(args: list[str], env: dict[str, str], db: Path, delays: list[float]) -> None:
    """Kill runs at moments chosen by time, once the papers table exists (mid-embedding or mid-commit)."""
    for delay in delays:
        proc = subprocess.Popen([sys.executable, "-m", "zsearch", *args], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        t0 = time.monotonic()
        while not (db / "lancedb" / "papers.lance").exists() and proc.poll() is None:
            if time.monotonic() - t0 > PATIENCE:
                proc.kill()
                raise AssertionError("the papers table never appeared")
            time.sleep(0.02)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            KILLS["by time"] += 1
        proc.wait(timeout=60)
        snapshot(db)


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    e = dict(os.environ)
    e.update({"NO_COLOR": "1", "HF_HUB_OFFLINE": "1", "ZSEARCH_WRITE_BATCH": "1"})
    e.pop("ZSEARCH_KILL_AT", None)
    return e


def test_ingest_pdf_killed_at_every_commit_step_loses_and_duplicates_nothing(tmp_path, env):
    folder = tmp_path / "papers"
    folder.mkdir()
    for p in PDFS:
        shutil.copy(p, folder / p.name)
    ref, db = tmp_path / "ref", tmp_path / "db"
    done = run(["ingest", "pdf", str(folder), "--db", str(ref)], env)
    assert done.returncode == 0, done.stderr[-3000:]
    expected = snapshot(ref)
    assert len(expected) == len(PDFS) and all(chunks for _, chunks in expected.values())

    args = ["ingest", "pdf", str(folder), "--db", str(db)]
    # each run dies at step k of its first commit (one paper per commit): before or after that
    # paper lands, so every run resumes half-committed work of another kind
    points = [f"{step}:1" for step in STEPS] + [f"{step}:1" for step in STEPS[:4]]
    before = sum(KILLS.values())
    assert kill_chain(args, env, db, points) == expected
    print(f"\ningest pdf: {sum(KILLS.values()) - before} kills, {dict(KILLS)}")
    assert sum(KILLS.values()) - before >= 8, KILLS


def test_refresh_killed_at_every_commit_step_loses_and_duplicates_nothing(tmp_path, env):
    from zsearch.ops.watch import Watch, Watches

    with ReplayServer() as srv:
        serve_sources(srv)
        env = {**env, **source_env(srv), "ZSEARCH_WRITE_BATCH": "2"}
        dbs = {}
        for name in ("ref", "db"):
            dbs[name] = tmp_path / name
            Watches(dbs[name]).add(Watch("a-se", arxiv="testing", max_results=15))
            Watches(dbs[name]).add(Watch("b-pm", pubmed=FIVE, max_results=5))  # 5 matches: not cut by --max
        done = run(["refresh", "--db", str(dbs["ref"])], env)
        assert done.returncode == 0, done.stderr[-3000:]
        expected = snapshot(dbs["ref"])
        assert len(expected) == 20

        args = ["refresh", "--db", str(dbs["db"])]
        before = sum(KILLS.values())
        # each run lands one commit (two papers), then dies at step k of its second
        points = [f"{step}:2" for step in STEPS] * 2
        timed_kills(args, env, dbs["db"], [0.0, 0.3])
        assert kill_chain(args, env, dbs["db"], points) == expected
    print(f"\nrefresh: {sum(KILLS.values()) - before} kills; all kills so far: {dict(KILLS)}")
    assert sum(KILLS.values()) - before >= 10, KILLS
