"""Hub models on CPU without downloads: tiny random-weight zembed-1 and BERT stand-ins.

The models are built by tests/tinymodels.py, saved to disk, and loaded through
``load_embedder`` — the path users take (the zembed-1 stand-in is found in an offline Hugging
Face cache under ``zeroentropy/zembed-1``, exactly as the real weights would be).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tinymodels import (  # noqa: F401 - fixtures
    TINY_HIDDEN,
    ZEMBED_PROMPTS,
    ZEMBED_SUFFIX,
    hf_cache,
    tiny_bert_dir,
    tiny_zembed_dir,
)

from tests.conftest import scifact_sample as scifact  # noqa: E402
from zsearch.embedding.embedder import Embedder, load_embedder
from zsearch.errors import UsageError


@pytest.fixture(scope="module")
def zembed(hf_cache) -> Embedder:  # type: ignore[no-untyped-def]  # noqa: F811
    return load_embedder("zembed-1", device="cpu")


@pytest.fixture(scope="module")
def bert(tiny_bert_dir: Path) -> Embedder:  # noqa: F811
    return load_embedder(str(tiny_bert_dir), device="cpu")


def reference_vectors(emb: Embedder, texts: list[str], prompt: str) -> np.ndarray:
    """What the published model computes: its own tokenize() output through its own modules."""
    import torch

    model = emb.model
    out = []
    with torch.inference_mode():
        for t in texts:
            feats = model[0].tokenize([prompt + t])
            out.append(model(dict(feats))["sentence_embedding"][0].float().numpy())
    return np.stack(out)


# -- zembed-1: profile, prompts, suffix ----------------------------------------------------


def test_zembed_profile_loads_from_the_offline_cache(zembed: Embedder, hf_cache: Path) -> None:  # noqa: F811
    assert zembed.model_id == "zeroentropy/zembed-1"
    assert zembed.profile.license == "CC-BY-NC-4.0"
    assert zembed.max_tokens == 32768 and zembed.long_context
    assert zembed.dim == TINY_HIDDEN
    assert zembed.model_path is not None and zembed.model_path.startswith(str(hf_cache))


def test_zembed_prompts_and_suffix_come_from_the_model(zembed: Embedder) -> None:
    assert zembed.prompts == ZEMBED_PROMPTS
    assert zembed.suffix_text == ZEMBED_SUFFIX


@pytest.mark.parametrize("kind", ["document", "query"])
def test_zembed_token_ids_are_what_its_module_produces(zembed: Embedder, kind: str) -> None:
    texts = scifact(5) + ["short", "ünïcode — and symbols ∑"]
    tok = zembed.tokenizer
    for text, ids in zip(texts, zembed.token_ids(texts, kind)):
        published = zembed.model[0].tokenize([ZEMBED_PROMPTS[kind] + text])["input_ids"][0].tolist()
        assert ids == published
        assert tok.convert_ids_to_tokens(ids[-2:]) == ["<|im_end|>", "Ċ"]  # "Ċ" is byte-level "\n"
        assert tok.decode(ids) == ZEMBED_PROMPTS[kind] + text + ZEMBED_SUFFIX


def test_sentence_transformers_alone_drops_the_suffix(zembed: Embedder) -> None:
    """The bug zsearch works around: ST >= 5.4 calls preprocess(), not zembed's tokenize()."""
    import sentence_transformers
    from packaging.version import Version

    if Version(sentence_transformers.__version__) < Version("5.4"):
        pytest.skip("older sentence-transformers still calls the custom tokenize()")
    feats = zembed.model.preprocess(["hello world"], prompt=ZEMBED_PROMPTS["document"])
    st_ids = feats["input_ids"][0].tolist()
    assert zembed.token_ids(["hello world"])[0] == st_ids + zembed.tokenizer.encode(ZEMBED_SUFFIX)


def test_zembed_vectors_match_the_published_pipeline(zembed: Embedder) -> None:
    texts = scifact(6)
    for kind, encode in (("document", zembed.encode_documents), ("query", zembed.encode_queries)):
        got = encode(texts)
        ref = reference_vectors(zembed, texts, ZEMBED_PROMPTS[kind])
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, ref, atol=1e-5)
    assert not np.allclose(zembed.encode_documents(texts[:1]), zembed.encode_queries(texts[:1]))


def test_zembed_pools_the_last_token(zembed: Embedder) -> None:
    """The vector is the normalised hidden state of the final token (the suffix's newline)."""
    import torch

    text = scifact(1)[0]
    ids = zembed.token_ids([text])[0]
    with torch.inference_mode():
        hidden = zembed.model[0].auto_model(input_ids=torch.tensor([ids])).last_hidden_state[0, -1]
    expect = (hidden / hidden.norm()).numpy()
    np.testing.assert_allclose(zembed.encode_documents([text])[0], expect, atol=1e-5)


def test_truncation_keeps_prompt_and_suffix(hf_cache: Path) -> None:  # noqa: F811
    emb = load_embedder("zembed-1", device="cpu", max_tokens=40)
    assert not emb.long_context
    text = scifact(1)[0]
    ids = emb.token_ids([text])[0]
    assert len(ids) == 40
    assert emb.tokenizer.decode(ids).startswith(ZEMBED_PROMPTS["document"])
    assert emb.tokenizer.decode(ids).endswith(ZEMBED_SUFFIX)
    assert emb.doc_token_limit == 40 - (len(ids) - emb.doc_token_limit)  # overhead is fixed
    body_tokens = emb.doc_token_limit
    vecs, counts = emb.encode_documents([text], with_token_counts=True)
    assert counts == emb.count_tokens([text]) and counts[0] > body_tokens
    # the reference: the published module on the text cut to the same body
    cut = emb.tokenizer.decode(emb.tokenizer.encode(text)[:body_tokens])
    np.testing.assert_allclose(vecs, reference_vectors(emb, [cut], ZEMBED_PROMPTS["document"]), atol=1e-5)


def test_max_tokens_beyond_the_model_is_refused(hf_cache: Path) -> None:  # noqa: F811
    with pytest.raises(UsageError, match="exceeds"):
        load_embedder("zembed-1", device="cpu", max_tokens=50_000)


# -- dimensions ----------------------------------------------------------------------------


def test_zembed_dim_applies_its_learned_projection(zembed: Embedder, hf_cache: Path) -> None:  # noqa: F811
    from safetensors.torch import load_file

    small = load_embedder("zembed-1", device="cpu", dim=16)
    assert small.dim == 16 and small.model_id == "zeroentropy/zembed-1"
    texts = scifact(4)
    full = zembed.encode_documents(texts)
    w = load_file(str(Path(small.model_path) / "projections.safetensors"))["16"].numpy()
    expect = full @ w
    expect /= np.linalg.norm(expect, axis=1, keepdims=True)
    got = small.encode_documents(texts)
    assert got.shape == (4, 16)
    np.testing.assert_allclose(got, expect, atol=1e-5)


def test_zembed_dim_not_shipped_is_refused(hf_cache: Path) -> None:  # noqa: F811
    with pytest.raises(UsageError, match="dims offered: 64, 32, 16, 8"):
        load_embedder("zembed-1", device="cpu", dim=12)


def test_matryoshka_dim_truncates_and_renormalises(bert: Embedder, tiny_bert_dir: Path) -> None:  # noqa: F811
    small = load_embedder(str(tiny_bert_dir), device="cpu", dim=8)
    texts = scifact(4)
    full = bert.encode_documents(texts)
    expect = full[:, :8] / np.linalg.norm(full[:, :8], axis=1, keepdims=True)
    np.testing.assert_allclose(small.encode_documents(texts), expect, atol=1e-6)


# -- batching ------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["zembed", "bert"])
def test_token_budget_batches_equal_one_by_one(request: pytest.FixtureRequest, which: str) -> None:
    emb: Embedder = request.getfixturevalue(which)
    texts = scifact(40) + ["x", "two words", "Short title only"]
    emb.token_budget = 1024  # several batches of different widths, padding on every side
    seen: list[tuple[int, int]] = []
    batched = emb.encode_documents(texts, progress=lambda n, t: seen.append((n, t)))
    assert len(seen) > 3 and sum(n for n, _ in seen) == len(texts)
    assert sum(t for _, t in seen) == sum(len(x) for x in emb.token_ids(texts))
    one_by_one = np.stack([emb.encode_documents([t])[0] for t in texts])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


def test_bert_matches_sentence_transformers_encode(bert: Embedder) -> None:
    texts = scifact(20)
    ref = bert.model.encode(texts, normalize_embeddings=True, batch_size=7)
    np.testing.assert_allclose(bert.encode_documents(texts), ref, atol=1e-5)


def test_replicas_share_one_queue(tiny_bert_dir: Path, bert: Embedder) -> None:  # noqa: F811
    """The multi-GPU path (one replica per device, one batch queue), run with two CPU replicas."""
    two = load_embedder(str(tiny_bert_dir), device="cpu,cpu", token_budget=1024)
    assert len(two.replicas) == 2 and two.devices == ["cpu", "cpu"]
    texts = scifact(30)
    seen: list[int] = []
    got = two.encode_documents(texts, progress=lambda n, t: seen.append(n))
    assert sum(seen) == 30
    np.testing.assert_allclose(got, bert.encode_documents(texts), atol=1e-5)


# -- the database refuses vectors of another model -------------------------------------------


def test_database_refuses_a_query_from_another_model(tmp_path: Path, tiny_bert_dir: Path) -> None:  # noqa: F811
    library = pytest.importorskip("zsearch.library")
    from zsearch.errors import ModelMismatch
    from zsearch.papers.model import Paper

    db = tmp_path / "db"
    lib = library.Library.open(db, model=str(tiny_bert_dir))
    papers = [
        Paper(id=f"doi:10.1/{i}", source="pubmed", title=t.split("\n")[0], abstract=t)
        for i, t in enumerate(scifact(3))
    ]
    lib.ingest_papers(papers)
    assert lib.search("white matter", k=2)  # the right model searches
    with pytest.raises(ModelMismatch):
        other = library.Library.open(db, model="minilm")
        other.search("white matter", k=2)


# -- reembed: a new vector set, switched in when complete ------------------------------------


def _small_db(db: Path, model: str, n: int = 6) -> None:
    from zsearch.library import Library
    from zsearch.papers.model import Paper

    lib = Library.open(db, model=model)
    lib.ingest_papers(
        Paper(id=f"doi:10.1/{i}", source="pubmed", title=t.split("\n")[0], abstract=t.split("\n\n", 1)[1])
        for i, t in enumerate(scifact(n))
    )


def test_reembed_switches_to_the_new_model(tmp_path: Path, tiny_bert_dir: Path) -> None:  # noqa: F811
    from zsearch.ingest.reembed import reembed
    from zsearch.library import Library
    from zsearch.store.tables import Store

    db = tmp_path / "db"
    _small_db(db, "minilm")
    before = {r["id"]: r for r in Store(db).rows()}
    seen: list[int] = []
    report = reembed(db, str(tiny_bert_dir), progress=lambda n, t: seen.append(n))
    assert (report.old_model_id, report.old_dim) == ("sentence-transformers/all-MiniLM-L6-v2", 384)
    assert report.papers == report.embedded == 6 and sum(seen) == 6
    store = Store(db)
    assert store.model_info() == (str(tiny_bert_dir), 32)
    after = {r["id"]: r for r in store.rows()}
    assert after.keys() == before.keys()
    for pid, row in after.items():  # same papers, same metadata, new vectors
        assert row["content_hash"] == before[pid]["content_hash"] and row["added"] == before[pid]["added"]
        assert len(row["vector"]) == 32
    bert = load_embedder(str(tiny_bert_dir), device="cpu")
    text = before["doi:10.1/0"]["fts_text"]
    np.testing.assert_allclose(after["doi:10.1/0"]["vector"], bert.encode_documents([text])[0], atol=1e-5)
    assert not (db / "lancedb" / "papers__old.lance").exists()
    hits = Library.open(db).search("cerebral white matter", k=3)  # the database uses its new model
    assert hits
    with pytest.raises(UsageError, match="already embedded"):
        reembed(db, str(tiny_bert_dir))


def test_reembed_resumes_and_keeps_the_old_set_until_done(tmp_path: Path, tiny_bert_dir: Path) -> None:  # noqa: F811
    """A run that dies half-way leaves the live tables untouched; the next run finishes the job."""
    import zsearch.ingest.reembed as rm
    from zsearch.store.tables import Store

    db = tmp_path / "db"
    _small_db(db, "minilm", n=5)
    real_batch = rm.REEMBED_BATCH
    calls = {"n": 0}

    def dying(n: int, t: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt

    rm.REEMBED_BATCH = 2
    try:
        with pytest.raises(KeyboardInterrupt):
            rm.reembed(db, str(tiny_bert_dir), progress=dying)
        assert Store(db).model_info() == ("sentence-transformers/all-MiniLM-L6-v2", 384)  # old set live
        report = rm.reembed(db, str(tiny_bert_dir), keep_old=True)
    finally:
        rm.REEMBED_BATCH = real_batch
    assert report.papers == 5 and report.embedded == 1  # 4 were staged by the first run
    assert Store(db).model_info() == (str(tiny_bert_dir), 32)
    assert (db / "lancedb" / "papers__old.lance").is_dir()


def test_an_interrupted_switch_is_finished_on_the_next_open(tmp_path: Path) -> None:
    from zsearch.store.migrate import JOURNAL, finish_interrupted_switch

    lance = tmp_path / "lancedb"
    for name in ("papers", "papers__new"):
        (lance / f"{name}.lance").mkdir(parents=True)
        (lance / f"{name}.lance" / "marker").write_text(name)
    # the first move happened, then the process died
    (lance / "papers.lance").rename(lance / "papers__old.lance")
    (tmp_path / JOURNAL).write_text(
        json.dumps({"moves": [["papers", "papers__old"], ["papers__new", "papers"]]})
    )
    finish_interrupted_switch(tmp_path)
    assert (lance / "papers.lance" / "marker").read_text() == "papers__new"
    assert (lance / "papers__old.lance" / "marker").read_text() == "papers"
    assert not (tmp_path / JOURNAL).exists()
