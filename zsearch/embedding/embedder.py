"""The Embedder: texts in, L2-normalised float32 vectors out, over a pluggable model runner.

An :class:`Embedder` knows its model id (stored with the vectors), its output dimension and
its context length in tokens, counts tokens, and cuts long texts into overlapping token
windows so that nothing past the context is silently lost (see docs/long-papers.md). It is a
coordinator; each concern has its own module:

* :mod:`~zsearch.embedding.profiles` — which model, its license, dims and context;
* :mod:`~zsearch.embedding.weights` — where its weights are (bundle, path, hub cache, download);
* :mod:`~zsearch.embedding.tokens` — the exact token ids (prompts, specials, suffix), windows;
* :mod:`~zsearch.embedding.batching` — token-budget batches, replicas, out-of-memory back-off;
* :mod:`~zsearch.embedding.engine` — which runtime runs the model (``--engine``);
* a runner — one padded batch through the model: :mod:`~zsearch.embedding.runner_torch`
  (sentence-transformers) or :mod:`~zsearch.embedding.runner_onnx` (ONNX Runtime, no torch).

Speed (docs/models.md): texts are tokenised once, by us, in a background thread that runs
ahead of the model, sorted by length and grouped into batches under a token budget, and each
batch goes straight into the model's modules. The Embedder meets its runner only through
:class:`Runner`, so importing this module never imports torch; nor does loading a model
with the ONNX engine.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from zsearch.embedding.batching import Budget, run_batches
from zsearch.embedding.engine import choose_engine
from zsearch.embedding.onnx_export import OnnxUnavailable
from zsearch.embedding.profiles import LONG_CONTEXT_TOKENS, Profile, output_dim, resolve_profile
from zsearch.embedding.runner_onnx import OnnxRunner
from zsearch.embedding.runner_torch import TorchRunner, resolve_devices
from zsearch.embedding.tokens import Tokens
from zsearch.embedding.weights import env_true, load_projection, locate_or_download
from zsearch.errors import UsageError

log = logging.getLogger(__name__)

# How a short-context model's sentence vectors are made: "late" pools each sentence's tokens
# from the paper's own forward pass (one pass per paper, Embedder.encode_late); "separate"
# encodes each sentence on its own (a second pass). Chosen on SciFact train nDCG@10 with
# `zsearch eval beir` (docs/benchmarks.md, "Late pooling").
SENTENCE_POOLING = "separate"
# Which graph runs the separate sentence pass when the engine is ONNX fp32: "int8" (the
# per-channel int8 graph, ``--engine onnx-int8``'s) or "same" (fp32). Paper, passage and query
# vectors stay fp32. Chosen with SciFact train nDCG@10 (docs/benchmarks.md, "int8 for the
# sentence pass"): int8 sentence vectors gave 0.7493 against fp32's 0.7497 (within the 0.003
# issue 14 allows) and the pass runs 1.45x faster. int8 paper vectors were measured too and
# dropped: nDCG@10 0.7484, but clustering V-measure fell from 1.074x to 1.032x plain KMeans on
# the arXiv set (issue 16's target is 1.07x).
SENTENCE_ENGINE = "int8"


class Runner(Protocol):
    """What an :class:`Embedder` needs of a model runtime (torch or ONNX Runtime).

    The model: its Hugging Face ``tokenizer``, the ``devices`` it runs on (one replica each;
    batches are shared among them), the longest input it takes (``max_seq_length``, ``None``:
    unknown), its ``native_dim``, the query/document ``prompts`` and the ``suffix_ids`` its
    input module appends (:func:`zsearch.embedding.tokens.custom_suffix`). How to batch it:
    ``default_token_budget()`` and ``exact_length_from`` (see :mod:`~zsearch.embedding.batching`).
    And ``forward``: one batch of token ids (prompt first, ``prompt_length`` ids long) on one
    replica, returned as float32 pooled vectors of the native dim, one row per text; a batch
    that does not fit raises :class:`~zsearch.embedding.batching.OutOfMemory`.
    """

    tokenizer: Any
    devices: list[str]
    max_seq_length: int | None
    native_dim: int
    prompts: dict[str, str]
    suffix_ids: list[int]

    @property
    def exact_length_from(self) -> int | None: ...

    def default_token_budget(self) -> int: ...

    def forward(self, batch_ids: list[list[int]], *, prompt_length: int = 0, replica: int = 0) -> np.ndarray: ...

    def forward_states(self, batch_ids: list[list[int]], *, prompt_length: int = 0,
                       replica: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


class Embedder:
    """A loaded model with zsearch's tokenisation, batching and windows.

    Use :func:`load_embedder` to make one. Attributes the library relies on: ``model_id``,
    ``dim``, ``max_tokens``, ``long_context``, ``profile``, ``engine``.
    """

    def __init__(
        self,
        runner: Runner,
        profile: Profile,
        *,
        dim: int | None = None,
        max_tokens: int | None = None,
        token_budget: int | None = None,
        model_path: str | None = None,
    ):
        self.runner = runner
        self.profile = profile
        # which runtime: "torch", "onnx" or "onnx-int8" (zsearch.embedding.engine)
        self.engine = ("onnx-int8" if runner.int8 else "onnx") if isinstance(runner, OnnxRunner) else "torch"
        self.model_id = profile.model_id
        self.model_path = model_path
        self.tokenizer = runner.tokenizer
        self.devices = list(runner.devices)
        self.on_gpu = self.devices[0].startswith("cuda")
        seq_limit = int(runner.max_seq_length or profile.max_tokens or 512)
        want = max_tokens or profile.max_tokens or seq_limit
        if want > seq_limit:
            raise UsageError(f"--max-tokens {want} exceeds what {profile.model_id} accepts ({seq_limit} tokens)")
        self.max_tokens = int(want)
        self.native_dim = int(runner.native_dim)
        self.dim = self.native_dim if dim is None else int(dim)
        method = output_dim(profile, dim, self.native_dim)
        self._projection = (
            load_projection(model_path, self.model_id, self.native_dim, self.dim) if method == "projection" else None
        )
        self._fixed_budget = token_budget  # the caller's, else each runner's own default
        self.budget = self._budget_for(runner)
        self.prompts = dict(runner.prompts)
        self.suffix_text = self.tokenizer.decode(runner.suffix_ids) if runner.suffix_ids else ""
        self.tokens = Tokens(self.tokenizer, self.prompts, runner.suffix_ids, self.max_tokens)
        self._sentence_runner: Runner | None = None  # loaded on the first sentence pass (:attr:`sentence_engine`)
        self._sentence_budget = self.budget

    # -- the runner's model, and the batching knobs (benchmarks and tests turn them) --------
    @property
    def model(self) -> Any:
        """The runner's loaded model (a ``SentenceTransformer`` for the torch runner)."""
        return getattr(self.runner, "model", None)

    @property
    def replicas(self) -> list[Any]:
        return list(getattr(self.runner, "replicas", [self.model]))

    @property
    def token_budget(self) -> int:
        """Padded tokens per forward batch (halved by an out-of-memory error)."""
        return self.budget.tokens

    @token_budget.setter
    def token_budget(self, value: int) -> None:
        self.budget.tokens = int(value)

    @property
    def exact_length_from(self) -> int | None:
        """Texts this long or longer batch only with texts of their exact length."""
        return self.budget.exact_from

    @exact_length_from.setter
    def exact_length_from(self, value: int | None) -> None:
        self.budget.exact_from = value

    @property
    def oom_retries(self) -> int:
        """How often an out-of-memory error halved the budget."""
        return self.budget.oom_retries

    @oom_retries.setter
    def oom_retries(self, value: int) -> None:
        self.budget.oom_retries = value

    # -- public: tokens ------------------------------------------------------------------
    @property
    def long_context(self) -> bool:
        """Whether a whole paper is embedded as one vector (context >= 8k tokens)."""
        return self.max_tokens >= LONG_CONTEXT_TOKENS

    @property
    def sentence_vectors(self) -> bool:
        """Whether papers also get sentence vectors (zsearch.papers.sentences) from this model.

        Yes for short-context models such as the bundled MiniLM, where the sentence stage
        is the measured second stage on CPU; no for long-context ones (zembed-1, Qwen3),
        whose second stage is a cross-encoder (docs/search.md).
        """
        wanted = self.profile.sentences
        return (not self.long_context) if wanted is None else bool(wanted)

    @property
    def late_sentences(self) -> bool:
        """Whether sentence vectors are pooled from the paper's own forward pass (:meth:`encode_late`)
        rather than encoded one by one: ``$ZSEARCH_SENTENCE_POOLING`` (``late`` or ``separate``),
        default :data:`SENTENCE_POOLING`."""
        how = os.environ.get("ZSEARCH_SENTENCE_POOLING", "").strip().lower() or SENTENCE_POOLING
        if how not in ("late", "separate"):
            raise UsageError(f"ZSEARCH_SENTENCE_POOLING={how!r}: use late or separate")
        return self.sentence_vectors and how == "late"

    @property
    def sentence_engine(self) -> str:
        """What runs the separate sentence pass (:func:`sentence_engine_for` this engine)."""
        return sentence_engine_for(self.engine)

    @property
    def doc_token_limit(self) -> int:
        """Most text tokens (as :meth:`count_tokens` counts them) one document vector covers."""
        return self.tokens.doc_token_limit

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text without truncation, special tokens and prompts excluded."""
        return self.tokens.count(texts)

    def windows(self, text: str, size: int | None = None, overlap: int | None = None) -> list[str]:
        """Cut ``text`` into overlapping windows of ``size`` tokens (see :meth:`Tokens.windows`)."""
        return self.tokens.windows(text, size, overlap)

    def token_ids(self, texts: Sequence[str], kind: str = "document") -> list[list[int]]:
        """The exact token ids the model sees for each text (prompt, specials, suffix, truncation).

        Over-long texts are cut in their body; the prompt, the tokenizer's closing special
        tokens and the model's suffix are always kept (last-token pooling reads the end).
        """
        return self.tokens.ids_and_counts(texts, kind)[0]

    # -- public: vectors -----------------------------------------------------------------
    def encode_documents(
        self,
        texts: Sequence[str],
        progress: Callable[[int, int], None] | None = None,
        *,
        with_token_counts: bool = False,
    ) -> Any:
        """Normalised float32 vectors of documents, one row per text.

        ``progress(n_texts, n_tokens)`` is called after each batch. With
        ``with_token_counts=True`` returns ``(vectors, counts)``: each text's token count
        before truncation (what :meth:`count_tokens` gives), for free.
        """
        vecs, counts = self._encode(texts, "document", progress)
        return (vecs, counts) if with_token_counts else vecs

    def encode_sentences(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised float32 vectors of sentences for the sentence stage, one row per text.

        Run by :attr:`sentence_engine`: the int8 graph when the engine is ONNX fp32, loaded (and
        made once, in the cache) on the first call. If it cannot be had, the engine's own graph
        runs them, with a one-line warning.
        """
        texts = list(texts)
        if self.sentence_engine == self.engine or not texts:
            return self._encode(texts, "document", None)[0]
        if self._sentence_runner is None:
            try:
                self._sentence_runner = self.runner.sibling(int8=True)  # type: ignore[attr-defined]
                self._sentence_budget = self._budget_for(self._sentence_runner)
            except OnnxUnavailable as exc:
                log.warning("the int8 sentence graph cannot be had (%s); sentences run on %s", exc, self.engine)
                self._sentence_runner = self.runner
        return self._encode(texts, "document", None, runner=self._sentence_runner, budget=self._sentence_budget)[0]

    def encode_late(self, docs: Sequence[str], sentences: Sequence[Sequence[str]]
                    ) -> list[tuple[np.ndarray, np.ndarray, int] | None]:
        """Each document's vector and its sentences' vectors from one forward pass ("late pooling").

        A sentence's vector is the mean of its tokens' states in the document's own input
        (Günther et al. 2024, *Late Chunking*), so the sentence stage costs no second pass over
        the text. Sentences past the model's context are read in further windows of whole
        sentences. The document vector is exactly :meth:`encode_documents`'.
        Per document: ``(vector, sentence vectors, token count)``, or None where
        :meth:`Tokens.late_layout` finds no layout (the caller encodes those one by one).
        """
        layouts = self.tokens.late_layout(docs, sentences)
        windows: list[_Window] = []
        firsts: list[int] = []
        n_spans = 0
        for lay in layouts:
            firsts.append(len(windows))
            if lay is None:
                continue
            per_window: list[list[tuple[int, int, int]]] = [[] for _ in lay.windows]
            for k, (w, a, b) in enumerate(lay.spans):
                per_window[w].append((n_spans + k, a, b))
            windows += [_Window(ids, spans) for ids, spans in zip(lay.windows, per_window)]
            n_spans += len(lay.spans)
        pooled = np.zeros((len(windows), self.dim), dtype=np.float32)
        states = np.zeros((n_spans, self.native_dim), dtype=np.float32)
        lead = self.tokens.templates["document"].lead

        def forward(replica: int, batch: list[list[int]]) -> np.ndarray:
            vecs, hidden, mask = self.runner.forward_states(batch, prompt_length=lead, replica=replica)
            for row, win in enumerate(batch):
                shift = int(mask[row].argmax())  # the first real token: 0 unless padded on the left
                for g, a, b in win.spans:  # type: ignore[attr-defined]
                    states[g] = hidden[row, shift + a : shift + b].mean(axis=0)
            return self._finish(vecs)

        if windows:
            run_batches(windows, pooled, forward, self.budget, self.devices)  # type: ignore[arg-type]
        spans_out = self._finish(states) if n_spans else states[:, : self.dim]
        out: list[tuple[np.ndarray, np.ndarray, int] | None] = []
        at = 0
        for lay, first in zip(layouts, firsts):
            if lay is None:
                out.append(None)
                continue
            out.append((pooled[first], spans_out[at : at + len(lay.spans)], lay.count))
            at += len(lay.spans)
        return out

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised float32 vectors of queries (the model's query prompt applied)."""
        return self._encode(texts, "query", None)[0]

    def _budget_for(self, runner: Runner) -> Budget:
        """A fresh batch budget for ``runner``: the caller's token budget, else the runner's default."""
        return Budget(int(self._fixed_budget or runner.default_token_budget()), runner.exact_length_from)

    def _encode(
        self, texts: Sequence[str], kind: str, progress: Callable[[int, int], None] | None,
        runner: Runner | None = None, budget: Budget | None = None,
    ) -> tuple[np.ndarray, list[int]]:
        texts = list(texts)
        run = runner or self.runner
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        counts: list[int] = [0] * len(texts)
        if not texts:
            return out, counts
        lead = self.tokens.templates[kind].lead

        def forward(replica: int, batch_ids: list[list[int]]) -> np.ndarray:
            return self._finish(run.forward(batch_ids, prompt_length=lead, replica=replica))

        for start, ids, cnt in self.tokens.groups_ahead(texts, kind):
            counts[start : start + len(cnt)] = cnt
            run_batches(ids, out[start : start + len(ids)], forward, budget or self.budget, self.devices, progress=progress)
        return out, counts

    def _finish(self, pooled: np.ndarray) -> np.ndarray:
        """The output dim (learned projection or Matryoshka prefix), then unit length."""
        emb = np.asarray(pooled, dtype=np.float32)
        if self._projection is not None:
            w, b = self._projection
            emb = emb @ w
            if b is not None:
                emb = emb + b
        elif self.dim != self.native_dim:
            emb = emb[:, : self.dim]
        norms = np.linalg.norm(emb, axis=1, keepdims=True)
        return (emb / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def sentence_engine_for(engine: str) -> str:
    """The engine of the separate sentence pass when papers run on ``engine``: ``onnx-int8`` for
    ``onnx`` (fp32) unless ``$ZSEARCH_SENTENCE_ENGINE`` says ``same`` (default
    :data:`SENTENCE_ENGINE`), else ``engine`` itself.

    >>> sentence_engine_for("onnx"), sentence_engine_for("torch"), sentence_engine_for("onnx-int8")
    ('onnx-int8', 'torch', 'onnx-int8')
    """
    how = os.environ.get("ZSEARCH_SENTENCE_ENGINE", "").strip().lower() or SENTENCE_ENGINE
    if how not in ("int8", "same"):
        raise UsageError(f"ZSEARCH_SENTENCE_ENGINE={how!r}: use int8 or same")
    return "onnx-int8" if how == "int8" and engine == "onnx" else engine


class _Window(list):  # type: ignore[type-arg]
    """One model input of :meth:`Embedder.encode_late`: token ids (a list, as the batcher wants)
    that also know which sentence spans they hold: ``(sentence index, start, end)``."""

    def __init__(self, ids: list[int], spans: list[tuple[int, int, int]]):
        super().__init__(ids)
        self.spans = spans


def load_embedder(
    name: str = "minilm",
    *,
    device: str | None = None,
    dim: int | None = None,
    max_tokens: int | None = None,
    token_budget: int | None = None,
    trust_remote_code: bool | None = None,
    engine: str | None = None,
) -> Embedder:
    """Load a profile (``minilm``, ``zembed-1``, ``qwen3-embedding-4b``…) or any model by hub name or path.

    ``device``: ``None`` uses every visible GPU (one replica each) else the CPU; or e.g.
    ``"cuda:1"``, ``"cuda:0,cuda:1"``, ``"cpu"``. ``dim``: a reduced output dimension the
    model offers. ``max_tokens``: context to use (default: the profile's). ``token_budget``:
    padded tokens per forward batch (default: 4k for torch on a CPU, 1k for ONNX Runtime, sized from free memory on a GPU).
    ``trust_remote_code``: run a model's own Python code (zembed-1's profile sets it; for other
    models pass it or set ``ZSEARCH_TRUST_REMOTE_CODE=1``). ``engine``: ``auto`` (default:
    ``$ZSEARCH_ENGINE``, else ``auto``), ``torch``, ``onnx`` or ``onnx-int8``
    (:mod:`zsearch.embedding.engine`); an ONNX engine that cannot serve the model here (a
    read-only cache, a model it does not run) falls back to torch with a one-line warning.

    Raises :class:`ModelLoadError` at once (no hang) when the weights are neither bundled, a
    local path, in the hub cache, nor downloadable.
    """
    profile = resolve_profile(name)
    path = locate_or_download(profile)
    chosen = choose_engine(engine, profile, device)
    runner: Runner | None = None
    if chosen != "torch":
        try:
            runner = OnnxRunner.load(path, int8=chosen == "onnx-int8")
        except OnnxUnavailable as exc:
            log.warning("the ONNX engine cannot run %s here (%s); using torch", profile.model_id, exc)
    if runner is None:
        devices = resolve_devices(device)
        if trust_remote_code is None:
            trust_remote_code = profile.trust_remote_code or env_true("ZSEARCH_TRUST_REMOTE_CODE")
        runner = TorchRunner.load(path, profile, devices, trust_remote_code)
    return Embedder(
        runner, profile, dim=dim, max_tokens=max_tokens, token_budget=token_budget, model_path=path
    )
