"""Table versions: pins keep a logged run's versions through every prune; the prune age is the
configured one, passed to LanceDB explicitly, with a floor that protects running readers.

Real LanceDB throughout. "A version more than a week old" is made by rewriting the commit time
in its manifest (the protobuf ``Timestamp`` that LanceDB's cleanup compares), as if it had
been written days ago; the version's data and every other byte stay as LanceDB wrote them.
``zsearch.store.versions`` is imported inside the tests that call it, so that the end-to-end
tests run, and fail, against code that has no such module.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import lancedb
import pytest
from test_refresh import one_model  # noqa: F401  (fixture: the real model, loaded once per session)

import zsearch.cli.pipeline  # noqa: F401  (registers `refresh` until cli/__init__ imports it)
from tests.conftest import run_cli
from zsearch.errors import UsageError
from zsearch.papers.model import Paper

DATA = Path(__file__).parent / "data" / "clustering"
U64 = 2**64 - 1
DAY = 86400


# -- helpers ------------------------------------------------------------------------------------

def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def age_version(table_dir: Path, version: int, days: float) -> None:
    """Move the commit time of ``version`` of the table at ``table_dir`` ``days`` into the past."""
    when = {v["version"]: v["timestamp"] for v in lancedb.connect(str(table_dir.parent))
            .open_table(table_dir.stem).list_versions()}[version]
    secs = int(when.timestamp())  # LanceDB gives local time; the manifest holds seconds since the epoch
    for name in (f"{U64 - version}.manifest", f"{version}.manifest"):  # v2 and v1 manifest naming
        path = table_dir / "_versions" / name
        if path.exists():
            break
    data = path.read_bytes()
    old, new = b"\x08" + _varint(secs), b"\x08" + _varint(secs - int(days * DAY))  # Timestamp.seconds
    assert data.count(old) == 1 and len(new) == len(old), f"no unique commit time in {path}"
    path.write_bytes(data.replace(old, new))


def age_all(table_dir: Path, days_for: dict[int, float]) -> None:
    for v, days in days_for.items():
        age_version(table_dir, v, days)


def kept(table_dir: Path) -> list[int]:
    """The versions a fresh connection finds (no cached manifests)."""
    return [v["version"] for v in lancedb.connect(str(table_dir.parent)).open_table(table_dir.stem).list_versions()]


class TwoTables:
    """Two real LanceDB tables, as a Store holds them."""

    def __init__(self, home: Path):
        self.db = lancedb.connect(str(home / "lancedb"))
        self.exists = True

    @property
    def papers(self):
        return self.db.open_table("papers")

    @property
    def chunks(self):
        return self.db.open_table("chunks")


def small_tables(home: Path, n_papers: int = 4, n_chunks: int = 2) -> TwoTables:
    """``papers`` with versions 1..n_papers and ``chunks`` with 1..n_chunks, one row added per version."""
    db = lancedb.connect(str(home / "lancedb"))
    for name, n in (("papers", n_papers), ("chunks", n_chunks)):
        t = db.create_table(name, [{"id": 0}])
        for i in range(1, n):
            t.add([{"id": i}])
    return TwoTables(home)


def scifact_papers() -> list[Paper]:
    """The 30 real SciFact abstracts as Papers (no DOI/PMID: the id is the text's hash)."""
    out = []
    with (DATA / "scifact_30.jsonl").open() as fh:
        for line in fh:
            d = json.loads(line)
            h = hashlib.sha256((d["title"] + d["text"]).encode()).hexdigest()
            out.append(Paper(id=f"sha256:{h}", source="scifact", title=d["title"], abstract=d["text"],
                             extra={"scifact_id": d["_id"], "topic": d["topic"]}))
    return out


# -- pins and the cutoff (LanceDB only) ---------------------------------------------------------

def test_a_pinned_version_survives_a_prune_of_every_older_one(tmp_path):
    from zsearch.store import versions

    home = tmp_path / "home"
    st = small_tables(home)  # papers 1..4, chunks 1..2
    assert versions.tag_versions(st, {"papers": 2, "chunks": 1}) == {"papers": "zsearch-v2", "chunks": "zsearch-v1"}
    assert versions.tag_versions(st, {"papers": 2, "chunks": 1}) == {"papers": "zsearch-v2", "chunks": "zsearch-v1"}
    assert versions.pins(st) == {"papers": {"zsearch-v2": 2}, "chunks": {"zsearch-v1": 1}}
    papers_dir = home / "lancedb" / "papers.lance"
    age_all(papers_dir, {1: 30, 2: 10, 3: 10})
    age_all(home / "lancedb" / "chunks.lance", {1: 10})

    # LanceDB refuses any cleanup whose cutoff passes a tagged version; the age stops a day before the pin
    t = st.papers
    age = versions.cleanup_age(t, 7, timedelta(hours=1))
    assert timedelta(days=11) - timedelta(minutes=5) < age < timedelta(days=11) + timedelta(minutes=5)
    versions.optimize_table(t, 7, timedelta(hours=1))
    versions.optimize_table(st.chunks, 7, timedelta(hours=1))
    assert 1 not in kept(papers_dir) and {2, 3, 4} <= set(kept(papers_dir))
    assert 1 in kept(home / "lancedb" / "chunks.lance")
    t = st.papers
    t.checkout("zsearch-v2")  # by the pin's name, as LanceDB allows
    assert t.count_rows() == 2

    # unpinned, the next prune takes it
    assert versions.unpin(st, "zsearch-v2") and not versions.unpin(st, "zsearch-v2")
    with pytest.raises(UsageError):
        versions.unpin(st, "someone-elses-tag")
    versions.optimize_table(st.papers, 7, timedelta(hours=1))
    assert not {2, 3} & set(kept(papers_dir))


def test_the_floor_keeps_young_versions_whatever_the_age_asked(tmp_path):
    from zsearch.store import versions

    home = tmp_path / "home"
    st = small_tables(home)
    papers_dir = home / "lancedb" / "papers.lance"
    versions.optimize_table(st.papers, 0, timedelta(hours=1))  # `--prune-older-than 0`: a running reader is safe
    assert kept(papers_dir)[:4] == [1, 2, 3, 4]
    versions.optimize_table(st.papers, 0, timedelta(0))  # no floor: everything but the latest goes
    assert len(kept(papers_dir)) == 1
    with pytest.raises(UsageError):
        versions.cleanup_age(st.papers, -1, timedelta(0))


def test_the_configured_age_and_floor(tmp_path, monkeypatch):
    from zsearch.store import versions

    home = tmp_path / "home"
    st = small_tables(home)
    papers_dir = home / "lancedb" / "papers.lance"
    assert versions.configured(home) == (7.0, timedelta(hours=1))  # the defaults
    (home / "config.toml").write_text("[refresh]\nprune_older_than_days = 30\nprune_floor_hours = 2\n")
    assert versions.configured(home) == (30.0, timedelta(hours=2))
    monkeypatch.setenv("ZSEARCH_REFRESH_PRUNE_DAYS", "9")
    assert versions.configured(home)[0] == 9.0  # the environment wins over the file
    monkeypatch.delenv("ZSEARCH_REFRESH_PRUNE_DAYS")
    # the ingest path passes no age: the configured one (30 days) keeps an 8-day-old version
    age_all(papers_dir, {1: 40, 2: 8})
    versions.optimize_table(st.papers, None)
    assert kept(papers_dir)[:3] == [2, 3, 4]
    (home / "config.toml").write_text("[refresh]\nprune_floor_hours = -1\n")
    with pytest.raises(UsageError, match="prune_floor_hours"):
        versions.configured(home)


# -- through zsearch: log, ingest, refresh, rerun -------------------------------------------------

def test_log_rerun_works_on_a_version_more_than_a_week_old(tmp_path, one_model, capsys, monkeypatch):
    """A search logged in a review, then a later ingest, then eight days, then a refresh with the
    default prune (7 days): the logged versions are still there and the rerun gives the same ids."""
    from zsearch.library import Library
    from zsearch.review.searchlog import LOG_NAME, read_log

    monkeypatch.setenv("NO_COLOR", "1")
    db, review = tmp_path / "db", tmp_path / "review"
    papers = scifact_papers()
    Library.open(db).ingest_papers([p for p in papers if p.extra["topic"] != "tuberculosis"])
    code, _, err = run_cli(["search", "tuberculosis treatment regimen", "-k", "5", "--review", str(review),
                            "--db", str(db)], capsys)
    assert code == 0, err
    rec = read_log(review / LOG_NAME)[0]
    logged = rec["table_version"]
    Library.open(db).ingest_papers([p for p in papers if p.extra["topic"] == "tuberculosis"])

    # eight days pass for everything up to the latest version; what came before the search, a month
    for table, v_logged in (("papers", logged["papers"]), ("chunks", logged["chunks"])):
        table_dir = db / "lancedb" / f"{table}.lance"
        older = kept(table_dir)
        age_all(table_dir, {v: (30 if v < v_logged else 8) for v in older[:-1]})
    code, out, err = run_cli(["refresh", "--format", "json", "--db", str(db)], capsys)
    assert code == 0, err
    refreshed = json.loads(out)

    code, rerun_out, err = run_cli(["log", "--rerun", "1", "--review", str(review), "--format", "json"], capsys)
    assert code == 0, err
    result = json.loads(rerun_out)
    assert result["same_ids"] is True and result["now"] == rec["ids"]
    assert refreshed["pruned"]["papers"] > 0  # the month-old versions went ...
    assert 1 not in kept(db / "lancedb" / "papers.lance")
    assert logged["papers"] in kept(db / "lancedb" / "papers.lance")  # ... the logged one stayed
    now = [h.id for h in Library.open(db).search(rec["query"], k=5)]
    assert now != rec["ids"]  # today's database answers differently: the rerun really went back
    assert rec["pins"] == {"papers": f"zsearch-v{logged['papers']}", "chunks": f"zsearch-v{logged['chunks']}"}


def test_ingest_and_refresh_prune_at_the_configured_age(tmp_path, one_model, capsys, monkeypatch):
    """`[refresh] prune_older_than_days = 30`: neither an ingest nor a refresh deletes an 8-day-old
    version (LanceDB's own default, 7 days, would); `--prune-older-than 7` does."""
    from zsearch.library import Library

    monkeypatch.delenv("ZSEARCH_REFRESH_PRUNE_DAYS", raising=False)
    db = tmp_path / "db"
    papers = scifact_papers()
    Library.open(db).ingest_papers(papers[:20])
    (db / "config.toml").write_text("[refresh]\nprune_older_than_days = 30\n")
    papers_dir = db / "lancedb" / "papers.lance"
    before = kept(papers_dir)
    age_all(papers_dir, {v: 8 for v in before[:-1]})
    Library.open(db).ingest_papers(papers[20:])  # its optimize prunes at the configured age
    assert set(before) <= set(kept(papers_dir))
    code, out, err = run_cli(["refresh", "--format", "json", "--db", str(db)], capsys)
    assert code == 0 and json.loads(out)["pruned"]["papers"] == 0, err
    assert json.loads(out)["prune_older_than_days"] == 30
    assert set(before) <= set(kept(papers_dir))
    code, out, err = run_cli(["refresh", "--prune-older-than", "7", "--format", "json", "--db", str(db)], capsys)
    assert code == 0 and json.loads(out)["pruned"]["papers"] >= len(before) - 1, err
    assert not set(before[:-1]) & set(kept(papers_dir))
    assert len(Library.open(db).search("malaria", k=3)) == 3
