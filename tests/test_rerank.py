"""Cross-encoder reranking with tiny random-weight models the tests build themselves.

Two layouts: a BERT sequence-classification cross-encoder (the ms-marco family's layout) and a
Qwen3 causal LM with zerank-2's sentence-transformers >= 5.4 layout: ``Transformer``
(``transformer_task: text-generation``) then ``LogitScore(true_token_id)``, a chat template
that puts the query in the system turn and the document in the user turn, and
``config_sentence_transformers.json`` with ``model_type: CrossEncoder``
(huggingface.co/zeroentropy/zerank-2, "Integrate with Sentence Transformers v5.4").
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from tinymodels import _one_thread, _qwen_like_tokenizer, install_in_hf_cache

from zsearch.errors import ModelLoadError

# zerank-2's template renders query -> system turn, document -> user turn, then the assistant prefix
ZERANK_TEMPLATE = (
    "{% for m in messages if m.role == 'query' %}<|im_start|>system\n"
    "{{ m.content if m.content is string else m.content[0].text }}<|im_end|>\n{% endfor %}"
    "{% for m in messages if m.role == 'document' %}<|im_start|>user\n"
    "{{ m.content if m.content is string else m.content[0].text }}<|im_end|>\n{% endfor %}"
    "<|im_start|>assistant\n"
)


def build_tiny_zerank(out: Path) -> Path:
    import torch
    from sentence_transformers import CrossEncoder
    from sentence_transformers.base.modules import Transformer
    from sentence_transformers.cross_encoder.modules import LogitScore
    from transformers import Qwen3Config, Qwen3ForCausalLM

    raw = out.parent / (out.name + "-hf")
    tok = _qwen_like_tokenizer()
    tok.chat_template = ZERANK_TEMPLATE
    cfg = Qwen3Config(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=8, max_position_embeddings=4096,
                      tie_word_embeddings=True, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    torch.manual_seed(0)
    Qwen3ForCausalLM(cfg).save_pretrained(raw)
    tok.save_pretrained(raw)
    true_id = tok.convert_tokens_to_ids("Yes")
    true_id = true_id if isinstance(true_id, int) and true_id != tok.unk_token_id else 42
    ce = CrossEncoder(modules=[Transformer(str(raw), transformer_task="text-generation"),
                               LogitScore(true_token_id=true_id)], device="cpu")
    ce.save(str(out))
    return out


def build_tiny_bert_ce(out: Path) -> Path:
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from zsearch.embedding.profiles import bundled_model_path

    tok = AutoTokenizer.from_pretrained(bundled_model_path())
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=512, num_labels=1)
    BertForSequenceClassification(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_zerank_dir(tmp_path_factory) -> Path:
    _one_thread()
    return build_tiny_zerank(tmp_path_factory.getbasetemp() / "tiny-zerank")


@pytest.fixture(scope="session")
def tiny_bert_ce_dir(tmp_path_factory) -> Path:
    _one_thread()
    return build_tiny_bert_ce(tmp_path_factory.getbasetemp() / "tiny-bert-ce")


DOCS = ["Zebrafish fin regeneration needs Wnt signalling.",
        "A survey of transformer language models.",
        "Gene regulatory networks in zebrafish development.",
        "Ocean temperature records since 1950."]
QUERY = "zebrafish regeneration"


def test_zerank_layout_is_the_published_one(tiny_zerank_dir):
    modules = json.loads((tiny_zerank_dir / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[-1] for m in modules] == ["Transformer", "LogitScore"]
    sbert = json.loads((tiny_zerank_dir / "sentence_bert_config.json").read_text())
    assert sbert["transformer_task"] == "text-generation"
    cfg = json.loads((tiny_zerank_dir / "config_sentence_transformers.json").read_text())
    assert cfg["model_type"] == "CrossEncoder"
    head = next(m for m in modules if m["type"].endswith("LogitScore"))
    assert "true_token_id" in json.loads((tiny_zerank_dir / head["path"] / "config.json").read_text())


def test_zerank_roles_query_system_document_user(tiny_zerank_dir):
    from zsearch.embedding.rerank import load_reranker

    r = load_reranker(str(tiny_zerank_dir), device="cpu")
    feats = r.model.preprocess([(QUERY, DOCS[0])])
    text = r.tokenizer.decode(feats["input_ids"][0])
    assert text.index("system\n" + QUERY) < text.index("user\n" + DOCS[0]) < text.index("assistant")


def test_bert_roles_query_first_segment(tiny_bert_ce_dir):
    from zsearch.embedding.rerank import load_reranker

    r = load_reranker(str(tiny_bert_ce_dir), device="cpu")
    feats = r.model.preprocess([(QUERY, DOCS[0])])
    ids = feats["input_ids"][0].tolist()
    types = feats["token_type_ids"][0].tolist()
    first = r.tokenizer.decode([i for i, t in zip(ids, types) if t == 0], skip_special_tokens=True)
    second = r.tokenizer.decode([i for i, t in zip(ids, types) if t == 1], skip_special_tokens=True)
    assert first == QUERY.lower() and second.startswith("zebrafish fin regeneration")


@pytest.mark.parametrize("which", ["bert", "zerank"])
def test_scores_match_the_model_and_are_per_pair(which, tiny_bert_ce_dir, tiny_zerank_dir):
    import torch

    from zsearch.embedding.rerank import load_reranker

    path = tiny_bert_ce_dir if which == "bert" else tiny_zerank_dir
    r = load_reranker(str(path), device="cpu")
    s = r.score(QUERY, DOCS)
    assert s.shape == (len(DOCS),)
    # each pair scored alone gives the same number: batching/padding does not leak between pairs
    alone = np.array([r.score(QUERY, [d])[0] for d in DOCS])
    np.testing.assert_allclose(s, alone, rtol=1e-4, atol=1e-5)
    # and it is the model's own output through its own activation (sigmoid for both)
    direct = r.model.predict([(QUERY, d) for d in DOCS], activation_fn=torch.nn.Sigmoid())
    np.testing.assert_allclose(s, np.asarray(direct), rtol=1e-4, atol=1e-5)
    assert len(set(np.round(s, 6))) > 1  # random weights still separate the documents


def test_zerank2_profile_from_hub_cache_uses_sigmoid_over_5(tiny_zerank_dir, tmp_path, monkeypatch):
    import torch

    from zsearch.embedding import rerank

    cache = tmp_path / "hub"
    install_in_hf_cache(tiny_zerank_dir, cache, "zeroentropy/zerank-2")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    r = rerank.load_reranker("zerank-2", device="cpu")
    assert r.profile.model_id == "zeroentropy/zerank-2" and r.profile.license == "CC-BY-NC-4.0"
    raw = np.asarray(r.model.predict([(QUERY, d) for d in DOCS], activation_fn=torch.nn.Identity()))
    np.testing.assert_allclose(r.score(QUERY, DOCS), 1 / (1 + np.exp(-raw / 5.0)), rtol=1e-5)


def test_missing_model_fails_fast_with_how_to_get_it(tmp_path, monkeypatch):
    from zsearch.embedding.rerank import load_reranker

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.perf_counter()
    with pytest.raises(ModelLoadError, match="hf download zeroentropy/zerank-1-small"):
        load_reranker("zerank-1-small", device="cpu")
    with pytest.raises(ModelLoadError, match="unknown reranker"):
        load_reranker("no-such-reranker")
    not_a_model = tmp_path / "not-a-model"
    not_a_model.mkdir()
    (not_a_model / "README.md").write_text("hello")
    with pytest.raises(ModelLoadError, match="cannot load reranker"):
        load_reranker(str(not_a_model), device="cpu")
    assert time.perf_counter() - t0 < 120  # generous: only guards against a network hang


def test_document_text_fits_budget_and_keeps_passage(tiny_bert_ce_dir):
    from zsearch.embedding.rerank import document_text, load_reranker

    # word budget, no tokenizer: title+abstract get what the passage leaves
    t = document_text("Title here", "one two three four five six seven eight", "passage words a b c d e f", budget=10)
    assert t.endswith("passage words a b c") and t.startswith("Title here")
    assert document_text("T", "abstract", None, budget=100) == "T\nabstract"
    r = load_reranker(str(tiny_bert_ce_dir), device="cpu")
    long_abs = " ".join(["regulation"] * 2000)
    text = r.fit_text(QUERY, "A title", long_abs, "the best passage about zebrafish")
    n = len(r.tokenizer(QUERY, text)["input_ids"])
    assert n <= r.max_tokens and "the best passage about zebrafish" in text


MINI = Path(__file__).parent / "data" / "beir" / "scifact-mini"
MINI_QUERY = "0-dimensional biomaterials lack inductive properties."


@pytest.fixture(scope="module")
def mini_db(tmp_path_factory) -> Path:
    """The scifact-mini corpus (11 real abstracts) ingested with the bundled model."""
    from zsearch.evaluate.beir import beir_papers, load_beir
    from zsearch.library import Library

    db = tmp_path_factory.mktemp("rerank-db")
    Library.open(db).ingest_papers(beir_papers(load_beir(MINI, "train")))
    return db


def test_search_reranks_the_fused_head_by_model_score(mini_db, tiny_bert_ce_dir):
    from zsearch.embedding.rerank import get_reranker
    from zsearch.library import Library

    lib = Library.open(mini_db)
    plain = lib.search(MINI_QUERY, k=8)
    hits = lib.search(MINI_QUERY, k=8, rerank=str(tiny_bert_ce_dir), rerank_top=5)
    head = hits[:5]
    scores = [h.scores["rerank"] for h in head]
    assert scores == sorted(scores, reverse=True)
    assert {h.id for h in head} == {h.id for h in plain[:5]}  # the same candidates, re-ordered
    assert [h.id for h in hits[5:]] == [h.id for h in plain[5:8]]  # below the head: fused order kept
    assert all("rerank" not in h.scores for h in hits[5:])
    # the scores are the model's, for the text the reranker is given
    r = get_reranker(str(tiny_bert_ce_dir), lib.device)
    texts = [r.fit_text(MINI_QUERY, h.title, h.abstract, h.passage) for h in head]
    np.testing.assert_allclose(scores, r.score(MINI_QUERY, texts), rtol=1e-4, atol=1e-5)


def test_rerank_setting_is_the_default(mini_db, tiny_zerank_dir, monkeypatch):
    from zsearch.library import Library

    monkeypatch.setenv("ZSEARCH_RERANK", str(tiny_zerank_dir))
    lib = Library.open(mini_db)
    hits = lib.search(MINI_QUERY, k=3, rerank_top=4)
    assert all("rerank" in h.scores for h in hits)
    off = lib.search(MINI_QUERY, k=3, config=__import__("zsearch.search.config").search.config.DEFAULT_CONFIG)
    assert all("rerank" not in h.scores for h in off)
