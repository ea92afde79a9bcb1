"""The embedder: batching (pure), the bundled MiniLM, OOM back-off, model resolution, `zsearch models`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import scifact_sample as scifact  # noqa: E402
from zsearch.embedding.batching import DEFAULT_TOKEN_BUDGET, padded_tokens, token_budget_batches
from zsearch.embedding.embedder import Embedder, load_embedder
from zsearch.embedding.profiles import PROFILES, resolve_profile
from zsearch.errors import ModelLoadError, UsageError, ZsearchError

# -- token-budget batching (pure) ----------------------------------------------------------


def test_batches_sorted_longest_first_under_the_budget() -> None:
    # 300 and 290 pad to 300 each: 600 fits; 20 and 10 pad to 20: 40 fits
    assert token_budget_batches([10, 300, 20, 290], budget=600) == [[1, 3], [2, 0]]
    # a budget of 599 no longer holds 2 × 300
    assert token_budget_batches([10, 300, 20, 290], budget=599) == [[1], [3, 2], [0]]


def test_a_text_longer_than_the_budget_gets_its_own_batch() -> None:
    assert token_budget_batches([5000, 10, 10], budget=100) == [[0], [1, 2]]


def test_batches_cap_the_number_of_texts() -> None:
    assert token_budget_batches([1] * 5, budget=1000, max_batch=2) == [[0, 1], [2, 3], [4]]


def test_long_texts_share_a_batch_only_with_equal_lengths() -> None:
    # from 100 tokens up: the two 300s batch together (no padding), 290 alone; short ones pad
    assert token_budget_batches([300, 20, 300, 290, 30], budget=1000, exact_from=100) == [
        [0, 2],
        [3],
        [4, 1],
    ]
    # without the rule the same budget pads 290 up to 300
    assert token_budget_batches([300, 20, 300, 290, 30], budget=1000) == [[0, 2, 3], [4, 1]]


def test_padded_tokens_counts_each_batch_at_its_longest() -> None:
    lengths = [10, 300, 20, 290]
    assert padded_tokens(lengths, [[1, 3], [2, 0]]) == 2 * 300 + 2 * 20
    # one fixed batch of all four pads everything to 300
    assert padded_tokens(lengths, [[0, 1, 2, 3]]) == 4 * 300


def test_every_text_is_batched_once_and_batches_fit() -> None:
    rng = np.random.default_rng(7)
    lengths = [int(x) for x in rng.integers(1, 512, size=500)]
    batches = token_budget_batches(lengths, budget=4096)
    assert sorted(i for b in batches for i in b) == list(range(500))
    for b in batches:
        assert len(b) * max(lengths[i] for i in b) <= 4096
    # sorting by length wastes almost nothing: under 5% padding here
    assert padded_tokens(lengths, batches) < 1.05 * sum(lengths)


# -- profiles and model resolution ---------------------------------------------------------


def test_profiles_carry_license_context_and_dims() -> None:
    z = PROFILES["zembed-1"]
    assert (z.model_id, z.license, z.max_tokens, z.trust_remote_code) == (
        "zeroentropy/zembed-1",
        "CC-BY-NC-4.0",
        32768,
        True,
    )
    assert z.dims == (2560, 1280, 640, 320, 160, 80, 40)
    assert PROFILES["minilm"].license == "Apache-2.0"
    for name in ("qwen3-embedding-0.6b", "qwen3-embedding-4b", "qwen3-embedding-8b"):
        assert PROFILES[name].license == "Apache-2.0" and PROFILES[name].max_tokens == 32768


def test_resolve_profile_by_name_hub_id_or_path(tmp_path: Path) -> None:
    assert resolve_profile("zeroentropy/zembed-1").name == "zembed-1"
    assert resolve_profile("Qwen/Qwen3-Embedding-4B").name == "qwen3-embedding-4b"
    adhoc = resolve_profile("BAAI/bge-small-en-v1.5")
    assert adhoc.model_id == "BAAI/bge-small-en-v1.5" and not adhoc.trust_remote_code
    assert resolve_profile(str(tmp_path)).model_id == str(tmp_path.resolve())
    with pytest.raises(ModelLoadError, match="unknown model 'zembed'") as exc:
        resolve_profile("zembed")
    assert "zembed-1" in str(exc.value)


def _run_load(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys\n"
        "from zsearch.embedding.embedder import load_embedder\n"
        "from zsearch.errors import ModelLoadError\n"
        "try:\n"
        f"    load_embedder({name!r})\n"
        "except ModelLoadError as e:\n"
        "    print(e); print('torch' in sys.modules); sys.exit(6)\n"
    )
    full = {**os.environ, **env}
    for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_ENDPOINT"):
        if k not in env:
            full.pop(k, None)
    # timeout: a guard against a hang (the failure must come from the cache check, not a wait)
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, timeout=120)


def test_a_model_not_cached_fails_at_once_offline(tmp_path: Path) -> None:
    res = _run_load("no-such-org/no-such-model", {"HF_HUB_CACHE": str(tmp_path), "HF_HUB_OFFLINE": "1"})
    assert res.returncode == 6, res.stderr
    msg, torch_loaded = res.stdout.strip().splitlines()
    assert "'no-such-org/no-such-model' is not on this machine" in msg
    assert "HF_HUB_OFFLINE is set" in msg and "HF_HOME" in msg and "local directory" in msg
    assert torch_loaded == "False"  # failed before any heavy import


def test_a_model_not_cached_fails_when_the_hub_is_unreachable(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a local port nobody listens on: connection refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = _run_load("zembed-1", {"HF_HUB_CACHE": str(tmp_path), "HF_ENDPOINT": f"http://127.0.0.1:{port}"})
    assert res.returncode == 6, res.stderr
    assert f"127.0.0.1:{port} is unreachable" in res.stdout
    assert "hf download zeroentropy/zembed-1" in res.stdout


def test_a_directory_that_is_no_model_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelLoadError, match="cannot load embedding model"):
        load_embedder(str(tmp_path), device="cpu")


# -- the bundled model -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    import torch

    torch.set_num_threads(1)  # 2 cores shared by several test processes (see tests/tinymodels.py)
    return load_embedder("minilm", device="cpu", engine="torch")  # .model: the SentenceTransformer


def test_minilm_properties(minilm: Embedder) -> None:
    assert minilm.model_id == "sentence-transformers/all-MiniLM-L6-v2"
    assert (minilm.dim, minilm.max_tokens) == (384, 256)
    assert not minilm.long_context
    assert minilm.doc_token_limit == 254  # [CLS] … [SEP]
    assert minilm.prompts == {"query": "", "document": ""} and minilm.suffix_text == ""


def test_minilm_equals_sentence_transformers_encode(minilm: Embedder) -> None:
    texts = scifact(12) + ["x", "a short query", "word " * 600]  # the last is cut at 256 tokens
    ref = minilm.model.encode(texts, normalize_embeddings=True, batch_size=32)
    minilm.token_budget = 2048  # several batches
    got = minilm.encode_documents(texts)
    minilm.token_budget = DEFAULT_TOKEN_BUDGET
    assert got.dtype == np.float32 and got.shape == (15, 384)
    np.testing.assert_allclose(got, ref, atol=1e-5)
    np.testing.assert_allclose(minilm.encode_queries(texts[:3]), ref[:3], atol=1e-5)


def test_token_counts_come_with_the_vectors(minilm: Embedder) -> None:
    texts = scifact(5) + ["word " * 600]
    vecs, counts = minilm.encode_documents(texts, with_token_counts=True)
    assert counts == minilm.count_tokens(texts) and counts[-1] == 600
    assert len(minilm.token_ids(texts)[-1]) == 256


def test_windows_cover_a_long_text(minilm: Embedder) -> None:
    text = " ".join(scifact(6))
    wins = minilm.windows(text)
    assert len(wins) > 1
    assert all(n <= minilm.doc_token_limit for n in minilm.count_tokens(wins))
    assert wins[0] == text[: len(wins[0])] and text.endswith(wins[-1])
    assert minilm.windows("short text") == ["short text"]


def test_dims_and_context_are_checked(minilm: Embedder) -> None:
    with pytest.raises(UsageError, match="--dim 128 is not offered"):
        load_embedder("minilm", device="cpu", dim=128)
    with pytest.raises(UsageError, match="exceeds"):
        load_embedder("minilm", device="cpu", max_tokens=1024)


# -- out-of-memory back-off ------------------------------------------------------------------


class OOMAbove:
    """A forward pre-hook that fails like a GPU that runs out of memory above ``limit`` tokens."""

    def __init__(self, limit: int):
        self.limit = limit
        self.failures = 0
        self.largest_ok = 0

    def __call__(self, module, args):  # type: ignore[no-untyped-def]
        import torch

        feats = args[0]
        n = int(feats["input_ids"].numel())
        if n > self.limit:
            self.failures += 1
            raise torch.OutOfMemoryError(f"CUDA out of memory (simulated: {n} tokens > {self.limit})")
        self.largest_ok = max(self.largest_ok, n)


def test_out_of_memory_halves_the_budget_and_retries(minilm: Embedder) -> None:
    texts = scifact(16)
    ref = minilm.encode_documents(texts)
    oom = OOMAbove(limit=1500)
    handle = minilm.model[0].register_forward_pre_hook(oom)
    minilm.token_budget, minilm.oom_retries = 16384, 0
    try:
        seen: list[int] = []
        got = minilm.encode_documents(texts, progress=lambda n, t: seen.append(n))
    finally:
        handle.remove()
        budget, minilm.token_budget = minilm.token_budget, DEFAULT_TOKEN_BUDGET
    assert oom.failures >= 1 and minilm.oom_retries == oom.failures
    assert budget <= 1500 and oom.largest_ok <= 1500  # the budget came down under the limit
    assert sum(seen) == 16  # every text once, none lost or repeated
    np.testing.assert_allclose(got, ref, atol=1e-5)


def test_one_text_that_does_not_fit_is_a_clear_error(minilm: Embedder) -> None:
    handle = minilm.model[0].register_forward_pre_hook(OOMAbove(limit=100))
    try:
        with pytest.raises(ZsearchError, match="out of memory embedding one text of 256 tokens"):
            minilm.encode_documents(["word " * 600])
    finally:
        handle.remove()
        minilm.token_budget = DEFAULT_TOKEN_BUDGET


# -- zsearch models --------------------------------------------------------------------------


def test_models_command_lists_profiles(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import zsearch.cli.models  # noqa: F401 - registers the commands
    from zsearch.cli import main

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    main(["models", "--format", "json"])
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(PROFILES)
    assert rows["minilm"]["available"] == "bundled" and rows["minilm"]["local"]
    assert rows["zembed-1"]["license"] == "CC-BY-NC-4.0"
    assert rows["zembed-1"]["available"] == "not downloaded" and not rows["zembed-1"]["local"]
    assert rows["zembed-1"]["context"] == 32768
    assert rows["qwen3-embedding-8b"]["dims"].startswith("4096")


def test_reembed_command_on_an_empty_database(tmp_path: Path) -> None:
    import zsearch.cli.models  # noqa: F401 - registers the commands
    from zsearch.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["reembed", "--model", "minilm", "--db", str(tmp_path / "empty")])
    assert exc.value.code == 4  # EmptyDatabase, before any model loads
