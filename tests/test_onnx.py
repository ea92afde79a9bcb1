"""The ONNX Runtime engine (issue 14): the bundled model without torch, against the torch path.

Real inputs only: the bundled all-MiniLM-L6-v2, real SciFact abstracts
(tests/data/embed/scifact_sample.jsonl), a real database. The model is exported once per
session into the session's cache (tests/conftest.py sets ZSEARCH_CACHE_DIR); tests that spoil a
cache work on a copy of it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import run_cli, scifact_sample
from zsearch.embedding.embedder import Embedder, load_embedder
from zsearch.embedding.engine import choose_engine, gpu_visible
from zsearch.embedding.onnx_export import sha256_file
from zsearch.embedding.profiles import PROFILES, bundled_model_path
from zsearch.errors import UsageError
from zsearch.papers.sentences import paper_sentences

# Vectors of the two engines must agree this closely (issue 14) for a database to serve both.
MIN_COSINE = 0.9999
HEAVY = ("torch", "sentence_transformers", "transformers")


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """The session's cache directory (the one tests/conftest.py points ZSEARCH_CACHE_DIR at)."""
    return tmp_path_factory.getbasetemp() / "zsearch-cache"


@pytest.fixture(scope="session")
def onnx_minilm(shared_cache) -> Embedder:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZSEARCH_CACHE_DIR", str(shared_cache))
        emb = load_embedder("minilm", device="cpu", engine="onnx")
    assert emb.engine == "onnx"
    return emb


@pytest.fixture(scope="session")
def torch_minilm() -> Embedder:
    import torch

    torch.set_num_threads(1)  # 2 cores shared by several test processes
    return load_embedder("minilm", device="cpu", engine="torch")


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


# -- the same vectors --------------------------------------------------------------------------


def test_onnx_vectors_match_torch_on_scifact_abstracts(onnx_minilm, torch_minilm) -> None:
    texts = scifact_sample(24) + ["x", "a short query", "word " * 600]  # the last is cut at 256 tokens
    budget, onnx_minilm.token_budget = onnx_minilm.token_budget, 2048  # several batches, each padded to its own longest
    got = onnx_minilm.encode_documents(texts)
    onnx_minilm.token_budget = budget
    ref = torch_minilm.encode_documents(texts)
    assert got.dtype == np.float32 and got.shape == (27, 384)
    assert cosines(got, ref).min() >= MIN_COSINE
    queries = ["citation-informed transformers", "vitamin D and bone density in children"]
    assert cosines(onnx_minilm.encode_queries(queries), torch_minilm.encode_queries(queries)).min() >= MIN_COSINE
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_onnx_tokens_windows_and_limits_match_torch(onnx_minilm, torch_minilm) -> None:
    texts = scifact_sample(5)
    long = " ".join(texts)
    assert onnx_minilm.token_ids(texts) == torch_minilm.token_ids(texts)
    assert onnx_minilm.count_tokens(texts) == torch_minilm.count_tokens(texts)
    assert onnx_minilm.windows(long) == torch_minilm.windows(long) and len(onnx_minilm.windows(long)) > 1
    for attr in ("model_id", "dim", "max_tokens", "doc_token_limit", "prompts", "suffix_text", "sentence_vectors"):
        assert getattr(onnx_minilm, attr) == getattr(torch_minilm, attr), attr


def test_int8_engine_is_close_to_fp32(onnx_minilm, shared_cache, monkeypatch) -> None:
    monkeypatch.setenv("ZSEARCH_CACHE_DIR", str(shared_cache))
    int8 = load_embedder("minilm", device="cpu", engine="onnx-int8")
    assert int8.engine == "onnx-int8" and int8.runner.onnx_path.name == "int8.onnx"
    texts = scifact_sample(20)
    cos = cosines(int8.encode_documents(texts), onnx_minilm.encode_documents(texts))
    # per-channel int8: cosine to fp32 min 0.988, mean 0.993 on 400 SciFact abstracts (quant_table)
    assert cos.min() > 0.97 and cos.mean() > 0.985


def test_the_sentence_pass_runs_on_the_int8_graph(onnx_minilm, shared_cache, monkeypatch) -> None:
    """Papers, passages and queries stay fp32; an ingest's sentence vectors come from the int8 graph
    (SciFact train nDCG@10 0.7493 against 0.7497, docs/benchmarks.md), unless the user says same."""
    monkeypatch.setenv("ZSEARCH_CACHE_DIR", str(shared_cache))
    monkeypatch.delenv("ZSEARCH_SENTENCE_ENGINE", raising=False)
    int8 = load_embedder("minilm", device="cpu", engine="onnx-int8")
    sentences = [s for t in scifact_sample(6) for s in paper_sentences("", t)]
    assert len(sentences) > 30
    fp32 = onnx_minilm.encode_documents(sentences)
    got = onnx_minilm.encode_sentences(sentences)
    assert (onnx_minilm.engine, onnx_minilm.sentence_engine, int8.sentence_engine) == ("onnx", "onnx-int8", "onnx-int8")
    assert cosines(got, int8.encode_documents(sentences)).min() >= 0.99999  # the int8 graph's vectors
    cos = cosines(got, fp32)
    assert cos.min() > 0.95 and cos.mean() > 0.98 and cos.max() < 0.99999  # close to fp32, not fp32
    monkeypatch.setenv("ZSEARCH_SENTENCE_ENGINE", "same")
    assert onnx_minilm.sentence_engine == "onnx"
    assert cosines(onnx_minilm.encode_sentences(sentences), fp32).min() >= 0.99999
    monkeypatch.setenv("ZSEARCH_SENTENCE_ENGINE", "fast")
    with pytest.raises(UsageError, match="use int8 or same"):
        onnx_minilm.encode_sentences(sentences)


def test_without_the_int8_graph_sentences_run_on_fp32_with_one_warning(onnx_minilm, shared_cache, tmp_path,
                                                                       monkeypatch, caplog) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(shared_cache / "onnx", cache / "onnx", ignore=shutil.ignore_patterns("int8.onnx*"))
    folder = next((cache / "onnx").glob("*/fp32.onnx")).parent
    (folder / "int8.onnx").mkdir()  # where the int8 graph would be written: it cannot be
    monkeypatch.setenv("ZSEARCH_CACHE_DIR", str(cache))
    monkeypatch.delenv("ZSEARCH_SENTENCE_ENGINE", raising=False)
    emb = load_embedder("minilm", device="cpu", engine="onnx")
    sentences = paper_sentences("", scifact_sample(1)[0])
    with caplog.at_level(logging.WARNING, logger="zsearch.embedding"):
        got = emb.encode_sentences(sentences)
        emb.encode_sentences(sentences)  # told once, not per call
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == 1 and "\n" not in warned[0] and "sentences run on onnx" in warned[0], warned
    assert cosines(got, onnx_minilm.encode_documents(sentences)).min() >= 0.99999
    assert (folder / "int8.onnx").is_dir() and (folder / "fp32.onnx").is_file()


# -- the cache ---------------------------------------------------------------------------------


def test_a_truncated_onnx_file_is_exported_again_and_the_user_told(onnx_minilm, shared_cache, tmp_path,
                                                                   monkeypatch, capsys) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(shared_cache / "onnx", cache / "onnx")
    onnx_file = next((cache / "onnx").glob("*/fp32.onnx"))
    with onnx_file.open("r+b") as fh:
        fh.truncate(onnx_file.stat().st_size // 2)
    monkeypatch.setenv("ZSEARCH_CACHE_DIR", str(cache))
    code, out, err = run_cli(["models", "prepare"], capsys)
    assert code == 0, err
    assert out.strip() == str(onnx_file)
    assert "int8 graph its sentence pass runs on" in err and (onnx_file.parent / "int8.onnx").is_file()
    told = [ln for ln in err.splitlines() if "corrupt or truncated" in ln]
    assert len(told) == 1 and str(onnx_file) in told[0] and "exporting it again" in told[0]
    side = json.loads(onnx_file.with_name("fp32.onnx.json").read_text())
    assert side["sha256"] == sha256_file(onnx_file) and side["bytes"] == onnx_file.stat().st_size
    # the file that came back gives the same vectors
    again = load_embedder("minilm", device="cpu", engine="onnx")
    texts = scifact_sample(3)
    assert cosines(again.encode_documents(texts), onnx_minilm.encode_documents(texts)).min() >= 0.99999


def test_a_byte_changed_in_place_is_caught_by_the_hash(onnx_minilm, shared_cache, tmp_path) -> None:
    root = tmp_path / "onnx"
    shutil.copytree(shared_cache / "onnx", root)
    onnx_file = next(root.glob("*/fp32.onnx"))
    with onnx_file.open("r+b") as fh:  # same size; its mtime changes, so the hash is checked
        fh.seek(onnx_file.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([byte[0] ^ 0xFF]))
    # what prepared_model asks before it serves a file (the export that follows is tested above)
    from zsearch.embedding.onnx_export import _problem, read_spec, source_hash

    key = source_hash(read_spec(bundled_model_path()))
    problem = _problem(onnx_file, key, "stat")
    assert problem is not None and "corrupt or truncated" in problem and str(onnx_file) in problem


def _unwritable_dir(tmp_path: Path) -> Path:
    """A cache directory this process cannot create or write (root ignores permission bits)."""
    if os.geteuid() == 0:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a directory")
        return blocker / "cache"  # mkdir fails: NotADirectoryError
    ro = tmp_path / "read-only"
    ro.mkdir()
    ro.chmod(0o555)
    return ro / "cache"


def test_an_unwritable_cache_falls_back_to_torch_with_one_warning(tmp_path, monkeypatch, caplog) -> None:
    monkeypatch.setenv("ZSEARCH_CACHE_DIR", str(_unwritable_dir(tmp_path)))
    with caplog.at_level(logging.WARNING, logger="zsearch.embedding"):
        emb = load_embedder("minilm", device="cpu", engine="onnx")
    assert emb.engine == "torch"
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == 1 and "\n" not in warned[0]
    assert "cannot write the ONNX cache" in warned[0] and "using torch" in warned[0]
    assert emb.encode_queries(["a query"]).shape == (1, 384)


# -- choosing the engine -----------------------------------------------------------------------


def test_engine_choice_default_flag_env_and_config(tmp_path, monkeypatch, capsys) -> None:
    minilm, zembed = PROFILES["minilm"], PROFILES["zembed-1"]
    assert choose_engine(None, minilm, "cpu") == "onnx"  # the CPU default for the bundled model
    if not gpu_visible():
        assert choose_engine(None, minilm, None) == "onnx"
    assert choose_engine(None, minilm, "cuda:0") == "torch"
    assert choose_engine(None, zembed, "cpu") == "torch"  # long context: torch
    assert choose_engine("onnx", zembed, "cpu") == "torch"  # asked for, but it cannot: torch (warned)
    with pytest.raises(UsageError, match="runs on the CPU"):
        choose_engine("onnx", minilm, "cuda")
    monkeypatch.setenv("ZSEARCH_ENGINE", "torch")
    assert choose_engine(None, minilm, "cpu") == "torch"  # env
    assert choose_engine("onnx-int8", minilm, "cpu") == "onnx-int8"  # a flag beats the env

    from zsearch.config import Settings

    monkeypatch.delenv("ZSEARCH_ENGINE")
    home = tmp_path / "home"
    home.mkdir()
    assert Settings.load(home).engine == "auto"
    (home / "config.toml").write_text('engine = "torch"\n')
    assert Settings.load(home).engine == "torch"  # config file
    monkeypatch.setenv("ZSEARCH_ENGINE", "ONNX")
    assert Settings.load(home).engine == "onnx"  # env beats the file
    assert Settings.load(home, engine="onnx-int8").engine == "onnx-int8"  # a flag beats both
    monkeypatch.setenv("ZSEARCH_ENGINE", "tensorflow")
    code, _, err = run_cli(["search", "x", "--db", str(home)], capsys)
    assert code == 2 and "unknown engine 'tensorflow'" in err and "onnx-int8" in err
    monkeypatch.delenv("ZSEARCH_ENGINE")
    code, _, err = run_cli(["search", "x", "--db", str(home), "--engine", "jax"], capsys)
    assert code == 2 and "unknown engine 'jax'" in err


# -- one database, either engine ---------------------------------------------------------------


@pytest.fixture(scope="session")
def small_db(tmp_path_factory, shared_cache, onnx_minilm) -> Path:
    """40 real SciFact abstracts ingested with the ONNX engine (the CPU default)."""
    from zsearch.library import Library
    from zsearch.papers.model import Paper

    db = tmp_path_factory.mktemp("onnxdb") / "db"
    papers = []
    with (Path(__file__).parent / "data" / "embed" / "scifact_sample.jsonl").open(encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if n == 40:
                break
            r = json.loads(line)
            papers.append(Paper(id=f"pmid:{r['_id']}", source="pubmed", pmid=r["_id"], title=r["title"],
                                abstract=r["text"], year=2000 + n % 20))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZSEARCH_CACHE_DIR", str(shared_cache))
        lib = Library.open(db, engine="onnx")
        report = lib.ingest_papers(papers)
        assert lib.embedder.engine == "onnx"
    assert report.to_dict()["added"] == 40
    return db


def test_a_database_made_by_one_engine_is_searched_by_the_other(small_db) -> None:
    from zsearch.library import Library

    query = "vitamin D deficiency"
    runs = {}
    for name in ("onnx", "torch"):
        lib = Library.open(small_db, engine=name, create=False)
        runs[name] = lib.search(query, k=10)
        assert lib.embedder.engine == name
    assert [h.id for h in runs["onnx"]] == [h.id for h in runs["torch"]]
    np.testing.assert_allclose([h.score for h in runs["onnx"]], [h.score for h in runs["torch"]], atol=1e-4)
    assert not list(small_db.rglob("*.onnx")) and not list(small_db.rglob("*engine*"))  # nothing engine-specific


def test_query_commands_never_import_torch(small_db, shared_cache) -> None:
    env = {**os.environ, "ZSEARCH_CACHE_DIR": str(shared_cache), "ZSEARCH_NO_SERVICE": "1"}
    env.pop("ZSEARCH_ENGINE", None)
    paper = json.loads((Path(__file__).parent / "data" / "embed" / "scifact_sample.jsonl").open().readline())["_id"]
    for args in (["search", "vitamin D deficiency", "-k", "3", "--format", "json"],
                 ["show", f"pmid:{paper}"], ["stats"], ["cluster", "vitamin D", "--top", "20", "--k", "2"]):
        r = subprocess.run([sys.executable, "-X", "importtime", "-m", "zsearch", *args, "--db", str(small_db)],
                           env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, (args, r.stderr[-2000:])
        imported = {ln.split("|")[-1].strip() for ln in r.stderr.splitlines() if ln.startswith("import time:")}
        assert not set(HEAVY) & imported, (args, sorted(set(HEAVY) & imported))
        if args[0] == "search":
            assert "onnxruntime" in imported and json.loads(r.stdout)[0]["id"].startswith("pmid:")
