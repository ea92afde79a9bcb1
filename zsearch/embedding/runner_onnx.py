"""The ONNX Runtime runner: a BERT-like model's exported graph, run on the CPU with no torch.

It implements what :class:`zsearch.embedding.embedder.Embedder` asks of a runner (see
``embedder.Runner``) with onnxruntime, tokenizers and numpy only: the model's own
``tokenizer.json`` behind a small adapter that answers the calls
:mod:`zsearch.embedding.tokens` makes of a Hugging Face tokenizer, the graph exported by
:mod:`zsearch.embedding.onnx_export`, and the pooling (mean or CLS, then L2-normalise) that
sentence-transformers' Pooling and Normalize modules do, in numpy. Vectors match the torch
runner's to cosine >= 0.9999 (tests/test_onnx.py), so a database made by either serves both.

``onnxruntime`` and ``tokenizers`` are imported inside functions, when a model loads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zsearch.embedding.batching import pad_batch
from zsearch.embedding.onnx_export import ModelSpec, prepared_model, read_spec
from zsearch.embedding.tokens import choose_prompts

# Padded tokens per ONNX Runtime batch. Swept on 200 SciFact abstracts and their 2,000 sentences
# (/work/scratch/lead14/budget.py, 2 cores, two rounds): 256 / 512 / 1024 / 2048 / 4096 / 16384
# tokens took 38 / 36 / 35-40 / 41-44 / 51-55 / 81-84 s for the sentences and 28-32 / 26-28 /
# 24-27 / 25-26 / 27-30 / 25-29 s for the abstracts. Smaller batches keep a layer's
# activations in cache; torch's sweep chose 4k (batching.DEFAULT_TOKEN_BUDGET).
ONNX_TOKEN_BUDGET = 1024
# The int8 graph's: the 2,831 sentences of the first 300 SciFact abstracts took 18.1-18.5 /
# 15.9-16.5 / 18.2-18.3 / 18.4-20.1 / 21.4-25.2 s at 256 / 512 / 1024 / 2048 / 4096 tokens, the
# 300 abstracts 11.6-12.3 s at 512 and 11.5-11.9 s at 1024 (/work/scratch/lead16/budget8.py).
ONNX_INT8_TOKEN_BUDGET = 512


class FastTokenizer:
    """A ``tokenizers.Tokenizer`` that answers what zsearch asks of a Hugging Face tokenizer.

    ``tok(text_or_texts, add_special_tokens=..., return_offsets_mapping=...)`` returns
    ``{"input_ids": ..., "offset_mapping": ...}`` (one list for one text), never truncated or
    padded (transformers' fast tokenizer turns both off per call the same way); plus
    ``decode`` and the special token ids.
    """

    def __init__(self, spec: ModelSpec, input_names: Sequence[str]):
        from tokenizers import Tokenizer

        tdir = spec.transformer_dir
        self._tok = Tokenizer.from_file(str(tdir / "tokenizer.json"))
        self._tok.no_padding()  # tokenizer.json may pin both (MiniLM's: padding and truncation at 128)
        self._tok.no_truncation()
        self._lower = spec.do_lower_case  # sentence-transformers' Transformer lowercases first
        cfg: dict[str, Any] = {}
        for name in ("special_tokens_map.json", "tokenizer_config.json"):
            if (tdir / name).is_file():
                cfg.update(json.loads((tdir / name).read_text(encoding="utf-8")))
        self.padding_side = str(cfg.get("padding_side", "right"))
        self.model_input_names = list(input_names)
        self.pad_token_id = self._special_id(cfg.get("pad_token"))
        self.eos_token_id = self._special_id(cfg.get("eos_token"))
        self.unk_token_id = self._special_id(cfg.get("unk_token"))

    def _special_id(self, token: Any) -> int | None:
        if isinstance(token, dict):  # {"content": "[PAD]", ...}
            token = token.get("content")
        return self._tok.token_to_id(token) if isinstance(token, str) else None

    def __call__(self, text: str | Sequence[str], add_special_tokens: bool = True,
                 return_offsets_mapping: bool = False, **_ignored: Any) -> dict[str, Any]:
        one = isinstance(text, str)
        texts = [text] if one else list(text)
        if self._lower:
            texts = [t.lower() for t in texts]
        encs = self._tok.encode_batch(texts, add_special_tokens=add_special_tokens)
        out: dict[str, Any] = {"input_ids": [list(e.ids) for e in encs]}
        if return_offsets_mapping:
            out["offset_mapping"] = [list(e.offsets) for e in encs]
        return {k: v[0] for k, v in out.items()} if one else out

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return self(text, add_special_tokens=add_special_tokens)["input_ids"]

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        return self._tok.decode(list(ids), skip_special_tokens=skip_special_tokens)


def physical_cores() -> int:
    """Physical cores this process may run on (hyperthread siblings counted once)."""
    try:
        cpus = os.sched_getaffinity(0)
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, (os.cpu_count() or 2) // 2)
    cores = set()
    for c in cpus:
        try:
            cores.add(Path(f"/sys/devices/system/cpu/cpu{c}/topology/thread_siblings_list").read_text().strip())
        except OSError:
            cores.add(str(c))
    return max(1, len(cores))


def make_session(path: str | Path, threads: int | None = None) -> Any:
    """A CPU session: every graph optimisation, ``threads`` intra-op threads (default: the cores)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.intra_op_num_threads = threads or physical_cores()
    so.inter_op_num_threads = 1
    so.log_severity_level = 3  # errors only: no warnings about unused initialisers on stderr
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


class OnnxRunner:
    """One ONNX Runtime session over a BERT-like model, on the CPU; see the module docstring."""

    def __init__(self, spec: ModelSpec, onnx_path: Path, *, threads: int | None = None, int8: bool = False):
        self.spec = spec
        self.onnx_path = onnx_path
        self.int8 = int8
        self._threads = threads
        self.session = make_session(onnx_path, threads)
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.tokenizer = FastTokenizer(spec, self.input_names)
        self.devices = ["cpu"]
        self.max_seq_length: int | None = spec.max_seq_length
        self.native_dim = spec.dim
        self.prompts = choose_prompts(*_prompts(spec.model_dir))
        self.suffix_ids: list[int] = []  # read_spec admits sentence-transformers' own Transformer only
        pad = self.tokenizer.pad_token_id
        self._pad_id = int(pad if pad is not None else 0)
        self._left = self.tokenizer.padding_side == "left"

    @classmethod
    def load(cls, path: str, *, int8: bool = False, root: Path | None = None) -> OnnxRunner:
        """The runner for the model in ``path``, its ONNX file exported first if the cache lacks it.

        Raises :class:`~zsearch.embedding.onnx_export.OnnxUnavailable` (a model the engine does
        not run, a cache it cannot write).
        """
        spec = read_spec(path)
        return cls(spec, prepared_model(path, int8=int8, root=root), int8=int8)

    def sibling(self, *, int8: bool) -> OnnxRunner:
        """The same model in the other precision, from the same cache (exported there if needed).

        Raises :class:`~zsearch.embedding.onnx_export.OnnxUnavailable` as :meth:`load` does.
        """
        root = self.onnx_path.parent.parent  # <root>/<source hash>/fp32.onnx
        path = prepared_model(self.spec.model_dir, int8=int8, root=root)
        return OnnxRunner(self.spec, path, threads=self._threads, int8=int8)

    # -- what the embedder asks ----------------------------------------------------------
    def default_token_budget(self) -> int:
        return ONNX_INT8_TOKEN_BUDGET if self.int8 else ONNX_TOKEN_BUDGET

    @property
    def exact_length_from(self) -> int | None:
        return None

    def forward(self, batch_ids: list[list[int]], *, prompt_length: int = 0, replica: int = 0) -> np.ndarray:
        """One padded batch through the graph: pooled (and normalised) float32 vectors, native dim."""
        return self.forward_states(batch_ids, prompt_length=prompt_length, replica=replica)[0]

    def forward_states(self, batch_ids: list[list[int]], *, prompt_length: int = 0,
                       replica: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`forward`'s vectors, plus the token states they pool (float32, batch × length ×
        dim) and the attention mask (late pooling: zsearch.embedding.embedder.Embedder.encode_late)."""
        input_ids, mask = pad_batch(batch_ids, self._pad_id, left=self._left)
        feeds = {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids)}
        hidden = self.session.run(None, {n: feeds[n] for n in self.input_names})[0].astype(np.float32, copy=False)
        if self.spec.pooling == "cls":
            first = mask.argmax(axis=1)  # each row's first real token (0 unless padded on the left)
            pooled = hidden[np.arange(len(mask)), first].copy()
        else:  # sentence-transformers' mean pooling: sum of unmasked token states / their count
            m = mask.astype(np.float32)
            pooled = np.einsum("bld,bl->bd", hidden, m)
            pooled /= np.maximum(m.sum(axis=1, keepdims=True), 1e-9)
        if self.spec.normalize:
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled, hidden, mask


def _prompts(model_dir: Path) -> tuple[dict[str, str] | None, str | None]:
    """The ``prompts`` and ``default_prompt_name`` of config_sentence_transformers.json."""
    path = model_dir / "config_sentence_transformers.json"
    if not path.is_file():
        return None, None
    cfg = json.loads(path.read_text(encoding="utf-8"))
    return cfg.get("prompts") or None, cfg.get("default_prompt_name")
