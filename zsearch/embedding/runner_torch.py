"""The torch runner: sentence-transformers model replicas, one per device, and their forward pass.

It implements what :class:`zsearch.embedding.embedder.Embedder` asks of a runner (see
``embedder.Runner``): the tokenizer, the model's limits and prompts, and ``forward`` — one
padded batch of token ids through the model's own modules (transformer, pooling, normalise),
returned as float32 numpy. On a GPU the weights are bf16 with SDPA attention, batches are built
in pinned memory and copied asynchronously, and the token budget is sized from free memory.

``torch``, ``transformers`` and ``sentence_transformers`` are imported here only, inside
functions, when a model loads (so importing zsearch never loads them).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from zsearch.embedding.batching import DEFAULT_TOKEN_BUDGET, GPU_EXACT_LENGTH_FROM, OutOfMemory, pad_batch
from zsearch.embedding.profiles import Profile
from zsearch.embedding.tokens import PROBE_TEXT, choose_prompts, custom_suffix, pad_token_id
from zsearch.errors import ModelLoadError, UsageError, ZsearchError

log = logging.getLogger(__name__)

# Bounds of the GPU budget derived from free memory: 8k is one full 8k-token paper. 64k is
# the cap: on an H100 with zembed-1's architecture a 262k-token batch of 1k-token papers ran
# at 36% MFU and peaked at 62 GB, 4 × 1k at 31%; more tokens per batch buy little (benchmarks/
# embed.py, docs/benchmarks.md).
GPU_BUDGET_MIN, GPU_BUDGET_MAX = 8192, 65536
# Fraction of free GPU memory (after the weights) the activations of one batch may use; the
# rest is headroom for the allocator's fragmentation and SDPA workspaces.
GPU_MEMORY_FRACTION = 0.5


class TorchRunner:
    """Loaded sentence-transformers replicas (the first is ``model``), run batch by batch."""

    def __init__(self, replicas: Sequence[Any]):
        if not replicas:
            raise ValueError("a runner needs at least one model")
        self.replicas: list[Any] = list(replicas)
        self.model = self.replicas[0]
        model = self.model
        self.tokenizer = model.tokenizer
        self.devices = [str(getattr(r, "device", "cpu")) for r in self.replicas]
        self.on_gpu = self.devices[0].startswith("cuda")
        self.max_seq_length: int | None = model.max_seq_length
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.native_dim = int(get_dim())
        self.prompts = choose_prompts(getattr(model, "prompts", None), getattr(model, "default_prompt_name", None))
        first = next(iter(model.children()), None)
        self.suffix_ids = custom_suffix(
            self.tokenizer, self._module_token_ids(PROBE_TEXT), PROBE_TEXT, type(first).__name__
        )[1]
        self._pad_id = pad_token_id(self.tokenizer)
        self._left = getattr(self.tokenizer, "padding_side", "right") == "left"
        names = getattr(self.tokenizer, "model_input_names", ["input_ids", "attention_mask"])
        self._token_type_ids = "token_type_ids" in names
        # a pooling module that leaves the prompt out needs to be told its length
        self._prompt_length_needed = any(getattr(m, "include_prompt", True) is False for m in model.children())

    @classmethod
    def load(cls, path: str, profile: Profile, devices: Sequence[str], trust_remote_code: bool) -> TorchRunner:
        """One replica per device, each loaded straight from disk (no second copy on the first GPU)."""
        return cls([_load_sentence_transformer(path, profile, d, trust_remote_code) for d in devices])

    # -- what the embedder asks ----------------------------------------------------------
    def default_token_budget(self) -> int:
        """Padded tokens per batch: the CPU default, or what the smallest GPU's free memory holds."""
        if not self.on_gpu:
            return DEFAULT_TOKEN_BUDGET
        return min(gpu_token_budget(r) for r in self.replicas)

    @property
    def exact_length_from(self) -> int | None:
        """No padded batches of long texts on a GPU (see GPU_EXACT_LENGTH_FROM)."""
        return GPU_EXACT_LENGTH_FROM if self.on_gpu else None

    def _module_token_ids(self, text: str) -> list[int] | None:
        """What the model's custom input module's own ``tokenize()`` gives for ``text``.

        ``None`` when the first module uses sentence-transformers' own ``tokenize()`` (nothing
        to learn) or cannot be asked (logged).
        """
        first = next(iter(self.model.children()), None)
        if first is None or not _overrides_tokenize(first):
            return None
        try:
            got = first.tokenize([text])["input_ids"][0]
        except Exception as exc:  # noqa: BLE001 - a module we cannot probe: say so and go on
            log.warning("cannot probe %s.tokenize(): %s", type(first).__name__, exc)
            return None
        return [int(x) for x in (got.tolist() if hasattr(got, "tolist") else got)]

    def forward(self, batch_ids: list[list[int]], *, prompt_length: int = 0, replica: int = 0) -> np.ndarray:
        """One padded batch through ``replica``: its pooled sentence embeddings, float32, native dim.

        Raises :class:`~zsearch.embedding.batching.OutOfMemory` (the device's cache emptied)
        when the batch does not fit.
        """
        return self._guarded(batch_ids, prompt_length, replica, states=False)

    def forward_states(self, batch_ids: list[list[int]], *, prompt_length: int = 0,
                       replica: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`forward`'s vectors, plus the token states they pool (float32, batch × length ×
        dim) and the attention mask (late pooling: zsearch.embedding.embedder.Embedder.encode_late)."""
        return self._guarded(batch_ids, prompt_length, replica, states=True)

    def _guarded(self, batch_ids: list[list[int]], prompt_length: int, replica: int, *, states: bool) -> Any:
        """:meth:`_forward`, an out-of-memory error turned into OutOfMemory (the cache emptied)."""
        try:
            return self._forward(batch_ids, prompt_length, replica, states=states)
        except _oom_errors() as exc:
            if self.devices[replica].startswith("cuda"):
                import torch

                torch.cuda.empty_cache()
            raise OutOfMemory(str(exc)) from exc

    def _forward(self, batch_ids: list[list[int]], prompt_length: int, replica: int, states: bool = False) -> Any:
        import torch

        model = self.replicas[replica]
        input_ids, mask = pad_batch(batch_ids, self._pad_id, left=self._left)
        feats: dict[str, Any] = {
            "input_ids": torch.from_numpy(input_ids),
            "attention_mask": torch.from_numpy(mask),
        }
        if self._token_type_ids:
            feats["token_type_ids"] = torch.zeros_like(feats["input_ids"])
        device = model.device
        if device.type == "cuda":
            feats = {k: v.pin_memory().to(device, non_blocking=True) for k, v in feats.items()}
        if self._prompt_length_needed and prompt_length:
            feats["prompt_length"] = prompt_length
        with torch.inference_mode():
            out = model(feats)
        emb = out["sentence_embedding"].float().cpu().numpy()
        if not states:
            return emb
        return emb, out["token_embeddings"].float().cpu().numpy(), mask


def _overrides_tokenize(module: Any) -> bool:
    """Whether ``module`` defines its own ``tokenize()`` (not one from sentence-transformers)."""
    for klass in type(module).__mro__:
        if "tokenize" in vars(klass):
            return not klass.__module__.startswith("sentence_transformers")
    return False


def _oom_errors() -> tuple[type[BaseException], ...]:
    import torch

    errs: list[type[BaseException]] = []
    for name in ("OutOfMemoryError",):
        if hasattr(torch, name):
            errs.append(getattr(torch, name))
    if hasattr(torch, "cuda") and hasattr(torch.cuda, "OutOfMemoryError"):
        errs.append(torch.cuda.OutOfMemoryError)
    return tuple(dict.fromkeys(errs))


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
    if device in (None, "", "auto", "cuda"):
        import torch

        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if n:
            return [f"cuda:{i}" for i in range(n)]
        if device == "cuda":
            raise UsageError("--device cuda: no CUDA GPU is visible to torch")
        return ["cpu"]
    return [d.strip() for d in device.split(",") if d.strip()]


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

