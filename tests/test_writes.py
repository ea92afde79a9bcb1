"""Write-path guarantees (docs/reliability.md): locks, read commands, fresh reads, orphans, unchanged files.

The kill-at-every-commit-step proof is tests/test_crash.py; these pin the other findings of
the reliability review, each with a real LanceDB and real processes where a lock is involved.
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from tests.conftest import PDFS, run_cli

HOLD_LOCK = """
import sys, time
from zsearch.ops.lock import writer_lock
with writer_lock(sys.argv[1], purpose="test holder"):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def lock_holder(copy_db):
    """Another process holding the database's writer lock."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(copy_db)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield copy_db
    proc.kill()
    proc.wait()


def test_python_api_writers_take_the_writer_lock(lock_holder):
    from zsearch.errors import LockBusy
    from zsearch.library import Library
    from zsearch.papers.model import Paper

    lib = Library.open(lock_holder)
    before = lib.count()
    with pytest.raises(LockBusy):
        lib.ingest_papers([Paper(id="doi:10.1/x", source="pdf", title="A paper", abstract="Words here.")])
    with pytest.raises(LockBusy):
        lib.delete([lib.ids()[0]])
    with pytest.raises(LockBusy):
        lib.add_sentence_vectors()
    with pytest.raises(LockBusy):
        lib.reembed("minilm", dim=128)
    assert lib.count() == before


def test_the_lock_is_reentrant_within_a_process(copy_db):
    from zsearch.library import Library
    from zsearch.papers.model import Paper

    lib = Library.open(copy_db)
    with lib.lock(purpose="outer"):  # what the CLI does around a Library writer
        report = lib.ingest_papers([Paper(id="doi:10.1/y", source="pdf", title="Reentrant", abstract="Held twice.")])
    assert report.added == 1


def test_read_commands_on_a_missing_database_create_nothing(tmp_path, capsys):
    typo = tmp_path / "typo"
    for args in (["search", "anything", "--db", str(typo)], ["show", "doi:10.1/x", "--db", str(typo)],
                 ["stats", "--db", str(typo)]):
        code, _, err = run_cli(args, capsys)
        assert code == 3, (args, err)
        assert "no zsearch database at" in err and "Traceback" not in err
        assert not typo.exists()


def test_a_long_lived_reader_sees_another_processes_commits(copy_db):
    from zsearch.library import Library

    reader = Library.open(copy_db)
    before = reader.count()
    code = ("import sys; from zsearch.library import Library; from zsearch.papers.model import Paper; "
            "Library.open(sys.argv[1]).ingest_papers([Paper(id='doi:10.9/fresh', source='pdf', title='Fresh', "
            "abstract='A paper committed by another process.')])")
    subprocess.run([sys.executable, "-c", code, str(copy_db)], check=True, capture_output=True)
    deadline = time.monotonic() + 30
    while reader.count() == before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert reader.count() == before + 1
    assert reader.get("doi:10.9/fresh").title == "Fresh"


def test_a_passage_without_its_paper_never_becomes_a_hit(copy_db):
    """What a reader sees between a writer's passages commit and its papers commit."""
    from zsearch.library import Library
    from zsearch.store.tables import Store

    st = Store(copy_db)
    dim = st.model_info()[1]
    vec = np.asarray(Library.open(copy_db).embedder.encode_queries(["citation-informed transformers"])[0])
    st.chunks.add([{"id": "doi:10.1/ghost#0#0", "paper_id": "doi:10.1/ghost", "idx": 0, "paper_hash": "0",
                    "text": "citation-informed transformers", "vector": vec.astype(np.float32).reshape(dim)}])
    hits = Library.open(copy_db).search("citation-informed transformers", k=10)
    assert hits and all(h.title for h in hits)
    assert "doi:10.1/ghost" not in {h.id for h in hits}


def test_unchanged_pdfs_are_not_parsed_again(copy_db, monkeypatch):
    import zsearch.sources.pdf.reader as reader
    from zsearch.library import Library

    def must_not_parse(path):
        raise AssertionError(f"{path} was parsed again")

    monkeypatch.setattr(reader, "read_layout", must_not_parse)
    report = Library.open(copy_db).ingest_pdfs([PDFS / "acl_anthology"])
    assert report.unchanged == 3 and report.added == report.updated == 0 and not report.failed


def test_a_changed_file_at_a_known_path_is_read_again(tmp_path, copy_db):
    """Hash-first must not hide a change: other bytes at the same path are parsed and update the paper."""
    import shutil

    from zsearch.library import Library

    lib = Library.open(copy_db)
    work = tmp_path / "one.pdf"
    shutil.copy(PDFS / "open_access_biomed" / "cermine_test1.pdf", work)
    first = lib.ingest_pdfs([work])
    shutil.copy(PDFS / "acl_anthology" / "N18-3011.pdf", work)  # same path, other bytes
    second = lib.ingest_pdfs([work])
    assert first.added + first.updated + first.unchanged == 1
    assert second.unchanged == 0 and second.added + second.updated == 1


def test_a_write_batch_closes_at_its_paper_count_or_its_text_size(tmp_path, monkeypatch):
    """Each batch is one commit; abstracts go 256 at a time, long texts fewer (WRITE_BATCH_CHARS)."""
    from zsearch.ingest import pipeline
    from zsearch.library import Library
    from zsearch.papers.model import Paper

    lib = Library.open(tmp_path / "db")
    batches: list[int] = []
    papers = [Paper(id=f"x:{i}", source="x", title=f"Paper {i}", abstract="Short abstract number %d here." % i)
              for i in range(5)]
    lib.ingest_papers(papers, progress=lambda n, tokens: batches.append(n))
    assert batches == [5] and pipeline.WRITE_BATCH >= 5  # one commit for a few abstracts
    # a batch whose text reaches the cap commits there: papers of 37 characters, a 100 cap -> 3, then 2
    monkeypatch.setattr(pipeline, "WRITE_BATCH_CHARS", 100)
    more = [Paper(id=f"y:{i}", source="x", title="Title y%d" % i, abstract="An abstract of some length %d." % i)
            for i in range(5)]
    batches.clear()
    before = len(lib.store.papers.list_versions())
    lib.ingest_papers(more, progress=lambda n, tokens: batches.append(n))
    assert batches == [3, 2]
    assert lib.count() == 10 and len(lib.store.papers.list_versions()) > before
