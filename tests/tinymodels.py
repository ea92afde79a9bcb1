"""Tiny random-weight sentence-transformers models, built and saved by the tests themselves.

Nothing is downloaded. Two models:

* :func:`build_tiny_zembed` — a 2-layer Qwen3 with ``zeroentropy/zembed-1``'s published
  sentence-transformers layout (``modules.json`` naming the custom module
  ``modeling_zembed.ZembedTransformer`` at the root, last-token pooling, normalisation, the
  ``query``/``document`` chat-style prompts with ``document`` as default, 40960
  ``max_seq_length``, ``projections.safetensors`` for the reduced dimensions). Its custom
  ``tokenize()`` appends ``<|im_end|>\\n``, exactly like the published module, so the tests can
  check that zsearch feeds the model that suffix whatever sentence-transformers version runs.
* :func:`build_tiny_bert` — a 2-layer BERT with mean pooling, using the bundled MiniLM's
  WordPiece vocabulary (so it tokenises real English like the default model does).

:func:`install_in_hf_cache` places a model directory in a Hugging Face cache layout under a
repo id, so ``load_embedder("zembed-1")`` finds it exactly as it would find the real weights.

The zembed-1 layout was read from the published repository files (modules.json,
modeling_zembed.py, sentence_bert_config.json, 1_Pooling/config.json, the README's prompt
description; https://huggingface.co/zeroentropy/zembed-1, commit d3c9465 and later README edits).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

# The prompts zembed-1 publishes in config_sentence_transformers.json (chat-template system turn).
ZEMBED_PROMPTS = {
    "query": "<|im_start|>system\nquery<|im_end|>\n<|im_start|>user\n",
    "document": "<|im_start|>system\ndocument<|im_end|>\n<|im_start|>user\n",
}
ZEMBED_SUFFIX = "<|im_end|>\n"
TINY_HIDDEN = 64  # stands in for zembed-1's 2560
TINY_DIMS = (64, 32, 16, 8)  # stands in for 2560/1280/640/320…

# A reproduction of the published modeling_zembed.py: the suffix is added in tokenize(), which
# sentence-transformers >= 5.4 no longer calls (it calls preprocess()).
MODELING_ZEMBED = '''\
import torch
from sentence_transformers.models import Transformer


class ZembedTransformer(Transformer):
    def tokenize(self, texts, padding=True):
        texts = [text + "<|im_end|>\\n" for text in texts]
        return self.tokenizer(
            texts,
            padding=padding,
            truncation="longest_first",
            return_tensors="pt",
            max_length=self.max_seq_length,
        )
'''


def _corpus_lines(n: int = 400) -> list[str]:
    """Real text to train the tiny tokenizer on: SciFact abstracts from tests/data/embed."""
    path = Path(__file__).parent / "data" / "embed" / "scifact_sample.jsonl"
    lines = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            lines.append(f"{rec['title']}\n{rec['text']}")
            if len(lines) >= n:
                break
    return lines


def _qwen_like_tokenizer():
    """A byte-level BPE tokenizer with Qwen's chat special tokens, trained on SciFact text."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=3000,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus_lines(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
        model_max_length=40960,
    )
    return fast


def build_tiny_zembed(out: Path, *, seed: int = 0) -> Path:
    """Save a tiny Qwen3 with zembed-1's module layout into ``out``; return ``out``."""
    import torch
    from safetensors.torch import save_file
    from transformers import Qwen3Config, Qwen3ForCausalLM

    out.mkdir(parents=True, exist_ok=True)
    tok = _qwen_like_tokenizer()
    torch.manual_seed(seed)
    cfg = Qwen3Config(
        vocab_size=len(tok),
        hidden_size=TINY_HIDDEN,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=40960,
        tie_word_embeddings=True,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
    )
    model = Qwen3ForCausalLM(cfg)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    (out / "modeling_zembed.py").write_text(MODELING_ZEMBED)
    (out / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "name": "0", "path": "", "type": "modeling_zembed.ZembedTransformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
            ],
            indent=2,
        )
    )
    (out / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": 40960, "do_lower_case": False})
    )
    (out / "config_sentence_transformers.json").write_text(
        json.dumps(
            {
                "prompts": ZEMBED_PROMPTS,
                "default_prompt_name": "document",
                "similarity_fn_name": "cosine",
            },
            indent=2,
        )
    )
    pool = out / "1_Pooling"
    pool.mkdir(exist_ok=True)
    (pool / "config.json").write_text(
        json.dumps(
            {
                "word_embedding_dimension": TINY_HIDDEN,
                "pooling_mode_cls_token": False,
                "pooling_mode_mean_tokens": False,
                "pooling_mode_max_tokens": False,
                "pooling_mode_mean_sqrt_len_tokens": False,
                "pooling_mode_weightedmean_tokens": False,
                "pooling_mode_lasttoken": True,
                "include_prompt": True,
            },
            indent=2,
        )
    )
    (out / "2_Normalize").mkdir(exist_ok=True)
    # Learned projections for the reduced dimensions, one (hidden, d) matrix per width.
    g = torch.Generator().manual_seed(seed + 1)
    save_file(
        {str(d): torch.randn(TINY_HIDDEN, d, generator=g) for d in TINY_DIMS[1:]},
        str(out / "projections.safetensors"),
    )
    return out


def build_tiny_bert(out: Path, *, seed: int = 0) -> Path:
    """Save a tiny BERT (mean pooling, normalised) with MiniLM's vocabulary into ``out``."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    from zsearch.embedding.profiles import bundled_model_path

    out.mkdir(parents=True, exist_ok=True)
    raw = out.parent / (out.name + "-hf")
    tok = AutoTokenizer.from_pretrained(bundled_model_path())
    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    BertModel(cfg).save_pretrained(raw)
    tok.save_pretrained(raw)
    word = Transformer(str(raw), max_seq_length=128)
    st = SentenceTransformer(modules=[word, Pooling(32, pooling_mode="mean"), Normalize()], device="cpu")
    st.save(str(out))
    shutil.rmtree(raw, ignore_errors=True)
    return out


def install_in_hf_cache(model_dir: Path, cache: Path, repo_id: str) -> Path:
    """Copy ``model_dir`` into ``cache`` (an ``HF_HUB_CACHE``) as the snapshot of ``repo_id``."""
    commit = "0" * 40
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snap = repo / "snapshots" / commit
    shutil.copytree(model_dir, snap, dirs_exist_ok=True)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    return snap


# -- pytest fixtures (imported by the test modules; built once per session) ---------------

_BUILT: dict[str, Path] = {}


def _one_thread() -> None:
    """One intra-op thread: the test machines share 2 cores between several test processes,
    and two spinning OpenMP threads per process made the tiny models ~5x slower there."""
    import torch

    torch.set_num_threads(1)


def _build_once(key: str, base: Path, builder) -> Path:  # type: ignore[no-untyped-def]
    if key not in _BUILT:
        _BUILT[key] = builder(base / key)
    return _BUILT[key]


try:
    import pytest
except ImportError:  # pragma: no cover - only the benchmarks import this without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture(scope="session")
    def tiny_zembed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
        """A tiny zembed-1 stand-in saved on disk (sentence-transformers layout)."""
        _one_thread()
        return _build_once("zembed", tmp_path_factory.getbasetemp(), build_tiny_zembed)

    @pytest.fixture(scope="session")
    def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
        """A tiny BERT (mean pooling) saved on disk."""
        _one_thread()
        return _build_once("bert", tmp_path_factory.getbasetemp(), build_tiny_bert)

    @pytest.fixture(scope="session")
    def hf_cache(tiny_zembed_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
        """An offline HF hub cache holding the tiny zembed-1 under ``zeroentropy/zembed-1``."""
        import os

        cache = tmp_path_factory.getbasetemp() / "hf-cache"
        if not (cache / "models--zeroentropy--zembed-1").exists():
            install_in_hf_cache(tiny_zembed_dir, cache, "zeroentropy/zembed-1")
        saved = {k: os.environ.get(k) for k in ("HF_HUB_CACHE", "HF_HUB_OFFLINE")}
        os.environ["HF_HUB_CACHE"] = str(cache)
        os.environ["HF_HUB_OFFLINE"] = "1"
        yield cache
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
