"""Cross-encoder rerankers: the zerank family, or any ``sentence_transformers.CrossEncoder``.

A reranker reads each (query, paper) pair whole and scores it; the search's top candidates
(``--rerank-top``, 50 by default) are re-ordered by that score. What the model sees of a
paper is its title, abstract and — for a long paper — the passage that matched the query best,
cut to fit the model's context (:func:`document_text`).

Profiles (see docs/search.md):

* ``zerank-1-small`` — zeroentropy/zerank-1-small, 1.7B, Apache-2.0.
* ``zerank-1`` — zeroentropy/zerank-1, 4B, CC-BY-NC-4.0.
* ``zerank-2`` — zeroentropy/zerank-2, 4B, CC-BY-NC-4.0. In sentence-transformers >= 5.4 it
  loads natively as ``Transformer(text-generation) -> LogitScore(true_token_id)`` and returns
  the raw "Yes" logit; ``sigmoid(logit / 5)`` is its published 0-1 scale.
* anything else: a hub name (``cross-encoder/ms-marco-MiniLM-L6-v2``) or a local directory.

Weights are found as the embedders' are (:mod:`zsearch.embedding.weights`) and never fetched
when the hub is unreachable: an unknown or uncached model is a
:class:`~zsearch.errors.ModelLoadError` at once, saying how to get it. On a GPU the model runs
in bf16 and pairs go in length-sorted batches.

``torch`` and ``sentence_transformers`` are imported inside functions only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zsearch.embedding.weights import env_true, locate_or_download
from zsearch.errors import ModelLoadError, ZsearchError

# Candidates reranked by default: 50 holds nearly all SciFact train relevants of the
# first stage (Recall@50 of the default ~0.93) at half the cost of 100.
DEFAULT_RERANK_TOP = 50
# Pairs per forward batch on CPU; on a GPU the batch is sized by tokens instead (below).
CPU_BATCH = 16
# Padded tokens per GPU batch for a 4B reranker in bf16: ~16k tokens of activations is a few GB,
# far under an 80 GB H100 after the 8 GB of weights, and already saturates its GEMMs.
GPU_BATCH_TOKENS = 16384
# Share of the context a long paper's best passage may take; title + abstract get the rest.
PASSAGE_SHARE = 0.5


@dataclass(frozen=True)
class RerankProfile:
    name: str
    model_id: str
    license: str
    size: str
    logit_scale: float | None = None  # raw logits -> sigmoid(x / scale); None: the model's own activation


PROFILES: dict[str, RerankProfile] = {
    "zerank-1-small": RerankProfile("zerank-1-small", "zeroentropy/zerank-1-small", "Apache-2.0", "1.7B", 5.0),
    "zerank-1": RerankProfile("zerank-1", "zeroentropy/zerank-1", "CC-BY-NC-4.0", "4B", 5.0),
    # model card (sentence-transformers integration): raw "Yes" logit; sigmoid(score / 5) = old 0-1 scale
    "zerank-2": RerankProfile("zerank-2", "zeroentropy/zerank-2", "CC-BY-NC-4.0", "4B", 5.0),
}


def resolve(name: str) -> RerankProfile:
    """A profile by name or hub id, else an ad-hoc profile for a hub name or local directory."""
    if name in PROFILES:
        return PROFILES[name]
    for p in PROFILES.values():
        if p.model_id.lower() == name.lower():
            return p
    path = Path(name).expanduser()
    if path.is_dir():
        return RerankProfile(str(path.resolve()), str(path.resolve()), "see the model's card", "?")
    if "/" not in name:
        raise ModelLoadError(
            f"unknown reranker {name!r}",
            hint=f"choose one of: {', '.join(PROFILES)}; or a cross-encoder's hub name (org/model) or a local path",
        )
    return RerankProfile(name, name, "see the model card", "?")


class Reranker:
    """A loaded cross-encoder. ``score(query, docs)`` returns one relevance per doc (higher is better)."""

    def __init__(self, model: Any, profile: RerankProfile):
        self.model = model
        self.profile = profile
        self.name = profile.name
        self.device = str(model.device)
        self.max_tokens = int(getattr(model, "max_seq_length", None) or 512)

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    def score(self, query: str, docs: Sequence[str]) -> np.ndarray:
        """Relevance of each doc to ``query``: the profile's 0-1 scale, or the model's own activation."""
        if not docs:
            return np.zeros(0, dtype=np.float32)
        import torch

        pairs = [(query, d) for d in docs]
        kwargs: dict[str, Any] = {"convert_to_numpy": True, "show_progress_bar": False}
        if self.profile.logit_scale is not None:
            kwargs["activation_fn"] = torch.nn.Identity()
        kwargs["batch_size"] = self._batch_size(query, docs)
        with torch.inference_mode():
            raw = np.asarray(self.model.predict(pairs, **kwargs), dtype=np.float32).reshape(len(docs), -1)
        s = raw[:, -1] if raw.shape[1] > 1 else raw[:, 0]  # several labels: the last is "relevant"
        if self.profile.logit_scale is not None:
            s = 1.0 / (1.0 + np.exp(-s / self.profile.logit_scale))
        return s.astype(np.float32)

    def _batch_size(self, query: str, docs: Sequence[str]) -> int:
        if not self.device.startswith("cuda"):
            return CPU_BATCH
        longest = min(self.max_tokens, max(len(d) for d in docs) // 3 + len(query) // 3 + 16)
        return max(1, GPU_BATCH_TOKENS // max(longest, 1))

    def fit_text(self, query: str, title: str, abstract: str, passage: str | None = None) -> str:
        """Title + abstract (+ best passage), cut in tokens to fit the context beside ``query``."""
        return document_text(title, abstract, passage, budget=self.doc_budget(query), tokenizer=self.tokenizer)

    def doc_budget(self, query: str) -> int:
        q = len(self.tokenizer(query, add_special_tokens=False)["input_ids"])
        return max(32, self.max_tokens - q - 16)  # 16: special tokens and a chat template's turns


def _cut(text: str, n: int, tokenizer: Any) -> str:
    if n <= 0 or not text:
        return ""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    offs = enc["offset_mapping"]
    if len(offs) <= n:
        return text
    return text[: offs[n - 1][1]]


def document_text(title: str, abstract: str, passage: str | None, *, budget: int, tokenizer: Any = None) -> str:
    """What a reranker reads of a paper, within ``budget`` tokens.

    The best passage (of a long paper) keeps up to half the budget when it is given; title
    and abstract take the rest, then any room the passage did not use. Without a tokenizer the
    budget is counted in words.
    """
    head = "\n".join(t for t in (title, abstract) if t)
    if tokenizer is None:
        def count(t: str) -> int:
            return len(t.split())

        def cut(t: str, n: int) -> str:
            w = t.split()
            return t if len(w) <= n else " ".join(w[:n])
    else:
        def count(t: str) -> int:
            return len(tokenizer(t, add_special_tokens=False)["input_ids"]) if t else 0

        def cut(t: str, n: int) -> str:
            return _cut(t, n, tokenizer)

    if not passage or passage.strip() in head:
        return cut(head, budget)
    p_room = math.floor(budget * PASSAGE_SHARE)
    p_text = cut(passage, p_room)
    head_text = cut(head, budget - count(p_text) - 2)
    return f"{head_text}\n…\n{p_text}" if head_text else p_text


def load_reranker(name: str, *, device: str | None = None, trust_remote_code: bool | None = None) -> Reranker:
    """Load a reranker profile or cross-encoder (bf16 on a GPU); ModelLoadError at once if absent."""
    profile = resolve(name)
    path = locate_or_download(profile, what="reranker", option="--rerank")
    import torch

    if device in (None, "", "auto", "cuda"):
        device = "cuda" if torch.cuda.is_available() else "cpu"
    model_kwargs: dict[str, Any] = {}
    if str(device).startswith("cuda"):
        model_kwargs["dtype"] = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if trust_remote_code is None:
        trust_remote_code = env_true("ZSEARCH_TRUST_REMOTE_CODE")
    from sentence_transformers import CrossEncoder

    try:
        model = CrossEncoder(path, device=device, local_files_only=True, trust_remote_code=trust_remote_code,
                             model_kwargs=model_kwargs)
    except ZsearchError:
        raise
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise ModelLoadError(
            f"cannot load reranker {profile.model_id!r} from {path}: {type(exc).__name__}: {first}",
            hint="check the directory holds a sentence-transformers CrossEncoder (modules.json or config.json, weights)",
        ) from exc
    model.eval()
    return Reranker(model, profile)


_CACHE: dict[tuple[str, str | None], Reranker] = {}


def get_reranker(name: str, device: str | None = None) -> Reranker:
    """:func:`load_reranker`, cached per process (an evaluation reranks hundreds of queries)."""
    key = (name, device)
    if key not in _CACHE:
        _CACHE[key] = load_reranker(name, device=device)
    return _CACHE[key]
