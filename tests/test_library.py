"""The foundation end to end: real PDFs, the real bundled model, a real LanceDB on disk."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.conftest import PDFS, SPECTER_QUERY
from zsearch.errors import EmptyDatabase, ModelMismatch, NotFound
from zsearch.library import Library
from zsearch.papers.model import Paper

UNREADABLE = {
    "ocrmypdf_invalid.pdf": "not a readable PDF",
    "N18-3011_truncated_60pct.pdf": "not a readable PDF",
    "libreoffice-writer-password.pdf": "encrypted",
    "ocrmypdf_c02-22.pdf": "no text layer",
    "cermine_scanned_abstract_page.pdf": "no text layer",
}


def test_ingest_reports_each_unreadable_pdf_and_stores_the_rest(pdf_db):
    db, report = pdf_db
    failed = {r.split("/")[-1]: why for r, why in report.failed}
    assert set(failed) == set(UNREADABLE)
    for name, reason in UNREADABLE.items():
        assert reason in failed[name], (name, failed[name])
        assert "\n" not in failed[name]
    assert report.added == 4 and report.updated == 0
    assert report.exit_code == 1
    lib = Library.open(db)
    assert lib.stats()["papers"] == 4


def test_query_from_an_abstract_finds_that_paper_first(pdf_db):
    lib = Library.open(pdf_db[0])
    hits = lib.search(SPECTER_QUERY, k=4)
    assert "SPECTER" in hits[0].title
    assert hits[0].id.split(":")[0] in {"arxiv", "doi", "sha256"}
    assert [h.rank for h in hits] == [1, 2, 3, 4]
    assert hits[0].score >= hits[1].score
    # both retrievers saw it
    assert hits[0].scores["dense_rank"] >= 1 and hits[0].scores["bm25_rank"] >= 1


def test_reingest_is_idempotent(copy_db):
    lib = Library.open(copy_db)
    version = lib.store.version()
    report = lib.ingest_pdfs([PDFS], ocr=False)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 4)
    assert lib.stats()["papers"] == 4
    assert lib.store.version() == version  # nothing written at all


def test_changed_file_updates_its_paper_never_duplicates(tmp_path):
    import pymupdf

    src = PDFS / "acl_anthology" / "P14-1059.pdf"
    pdf = tmp_path / "paper.pdf"
    shutil.copy(src, pdf)
    lib = Library.open(tmp_path / "db")
    first = lib.ingest_pdfs([pdf])
    assert first.added == 1
    (pid,) = first.ids
    doc = pymupdf.open(pdf)
    page = doc.new_page()
    page.insert_text((72, 72), "Appendix: an added paragraph about tree kernels and zebras.")
    doc.save(tmp_path / "edited.pdf")
    doc.close()
    shutil.move(tmp_path / "edited.pdf", pdf)
    second = lib.ingest_pdfs([pdf])
    assert (second.added, second.updated) == (0, 1)
    assert second.ids == [pid]
    assert lib.stats()["papers"] == 1
    assert "zebras" in lib.get(pid).full_text


def test_long_paper_is_windowed_not_truncated(pdf_db):
    lib = Library.open(pdf_db[0])
    p = lib.get(lib.search(SPECTER_QUERY, k=1)[0].id)
    chunks = lib.store.chunks.search().where(f"paper_id = '{p.id}'").limit(10_000).to_list()
    assert len(chunks) > 10  # a 13-page paper is far past MiniLM's 256 tokens
    chunks.sort(key=lambda r: r["idx"])
    # the last window reaches the end of the paper: nothing past the context is lost
    tail = p.document_text.strip()[-40:]
    assert tail in chunks[-1]["text"]
    row = lib.store.get_rows([p.id])[p.id]
    assert row["n_chunks"] == len(chunks) and row["token_count"] > 5000


def test_vectors_are_normalised_and_model_is_stored(pdf_db):
    lib = Library.open(pdf_db[0])
    ids = [p.id for p in lib.papers()]
    v = lib.vectors(ids)
    assert v.shape == (4, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert lib.store.model_info() == ("sentence-transformers/all-MiniLM-L6-v2", 384)


def test_other_model_is_refused_with_both_names(pdf_db):
    with pytest.raises(ModelMismatch) as exc:
        Library.open(pdf_db[0], model="BAAI/bge-small-en-v1.5")
    msg = str(exc.value)
    assert "all-MiniLM-L6-v2" in msg and "bge-small-en-v1.5" in msg


def test_unknown_id_and_empty_database(tmp_path, pdf_db):
    with pytest.raises(NotFound):
        Library.open(pdf_db[0]).get("doi:10.9999/nope")
    with pytest.raises(EmptyDatabase):
        Library.open(tmp_path / "empty").search("anything")


def test_records_of_one_paper_merge_into_one_row(tmp_path):
    lib = Library.open(tmp_path / "db")
    a = Paper(id="arxiv:2004.07180", source="arxiv", arxiv_id="2004.07180", doi="10.18653/v1/2020.acl-main.207",
              title="SPECTER", abstract="Representation learning is a critical ingredient.")
    b = Paper(id="doi:10.18653/v1/2020.acl-main.207", source="pdf", doi="10.18653/v1/2020.acl-main.207",
              title="SPECTER", abstract="Representation learning is a critical ingredient.", full_text="Body " * 50)
    r = lib.ingest_papers([a, b])
    assert r.added == 1
    r2 = lib.ingest_papers([Paper(id="pmid:1", source="pubmed", pmid="1", doi="10.18653/V1/2020.ACL-MAIN.207",
                                  title="SPECTER", abstract="x")])
    assert (r2.added, r2.updated) == (0, 1)
    (p,) = lib.papers()
    assert p.id == "arxiv:2004.07180"
    assert set(p.sources) == {"arxiv", "pdf", "pubmed"} and p.pmid == "1" and p.full_text.startswith("Body")


def test_failing_source_keeps_what_was_committed(tmp_path):
    from zsearch.errors import SourceError

    def source():
        for i in range(3):
            yield Paper(id=f"doi:10.1/{i}", source="pdf", title=f"Paper {i}", abstract="about graphs")
        raise SourceError("network timeout on page 2")

    lib = Library.open(tmp_path / "db")
    with pytest.raises(SourceError):
        lib.ingest_papers(source(), batch_size=2)
    assert lib.stats()["papers"] == 3
    again = lib.ingest_papers(Paper(id=f"doi:10.1/{i}", source="pdf", title=f"Paper {i}", abstract="about graphs")
                              for i in range(4))
    assert (again.added, again.unchanged) == (1, 3)
