"""Where a model's weights are: the bundle, a local path, the hub cache, else a guarded download.

Shared by the embedders and rerankers. The cache is read without any network access; a model
that is not cached is fetched only when the hub answers a TCP connection within a few seconds
(:func:`hub_reachable`), so a machine without network fails at once with instructions instead
of hanging. Also reads a model's learned dimension projections (``projections.safetensors``)
as numpy arrays, so no runner needs torch for them.
"""

from __future__ import annotations

import json
import os
import socket
import struct
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import numpy as np

from zsearch.embedding.profiles import BUNDLED_PROFILE, bundled_model_path
from zsearch.errors import ModelLoadError, UsageError

# Seconds to wait for a TCP connection to the hub before calling it unreachable.
HUB_CONNECT_TIMEOUT = 3.0


class ModelRef(Protocol):
    """What weight discovery needs of a profile (an embedding or a reranker profile)."""

    @property
    def name(self) -> str: ...

    @property
    def model_id(self) -> str: ...


def env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def hub_reachable(timeout: float = HUB_CONNECT_TIMEOUT) -> tuple[bool, str]:
    """``(True, "")`` if the hub endpoint accepts a TCP connection within ``timeout`` s, else ``(False, why)``."""
    if env_true("HF_HUB_OFFLINE") or env_true("TRANSFORMERS_OFFLINE"):
        return False, "HF_HUB_OFFLINE is set"
    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host = url.hostname or "huggingface.co"
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, ""
    except OSError as exc:
        return False, f"{host}:{port} is unreachable ({type(exc).__name__})"


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


def model_location(profile: ModelRef) -> str | None:
    """Where the weights of ``profile`` are on this machine, or ``None`` (never downloads)."""
    if profile.name == BUNDLED_PROFILE:
        return bundled_model_path()
    p = Path(profile.model_id).expanduser()
    if p.is_dir():
        return str(p)
    snap = cached_model_path(profile.model_id)
    return str(snap) if snap else None


def _not_available(profile: ModelRef, reason: str, what: str, option: str) -> ModelLoadError:
    return ModelLoadError(
        f"{what} {profile.model_id!r} is not on this machine "
        f"(hub cache {hf_cache_dir()}) and {reason}",
        hint=(
            "download it once where the hub is reachable, e.g. "
            f"`hf download {profile.model_id}` (HF_HOME or HF_HUB_CACHE choose the cache), "
            f"or pass a local directory: {option} /path/to/model"
        ),
    )


def locate_or_download(
    profile: ModelRef, *, what: str = "embedding model", option: str = "--model"
) -> str:
    """A local directory with the weights: the bundle, a path, the hub cache, else a download.

    The cache is checked first without any network access. A download is tried only when the
    hub answers a TCP connection within a few seconds, so a machine without network fails at
    once with a :class:`ModelLoadError` (naming ``what`` and the ``option`` that takes a local
    directory) instead of hanging.
    """
    found = model_location(profile)
    if found:
        return found
    ok, why = hub_reachable()
    if not ok:
        raise _not_available(profile, why, what, option)
    try:
        from huggingface_hub import snapshot_download

        return str(snapshot_download(profile.model_id, cache_dir=str(hf_cache_dir())))
    except Exception as exc:  # noqa: BLE001 - any hub failure becomes one clear error
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise _not_available(
            profile, f"the download failed: {type(exc).__name__}: {first}", what, option
        ) from exc


# -- learned dimension projections ---------------------------------------------------------

# safetensors dtypes a projection may be stored in; BF16 is widened to float32 by hand
# (numpy has no bfloat16).
_SAFETENSORS_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2"}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The float tensors of a ``.safetensors`` file as float32 numpy arrays (no torch).

    The format: an 8-byte little-endian header length, a JSON header (name -> dtype, shape,
    byte offsets), then the raw data.
    """
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = memoryview(raw)[8 + n :]
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] not in _SAFETENSORS_DTYPES:
            continue
        start, end = info["data_offsets"]
        arr = np.frombuffer(data[start:end], dtype=_SAFETENSORS_DTYPES[info["dtype"]])
        if info["dtype"] == "BF16":  # bfloat16 is the top half of a float32
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        out[name] = arr.astype(np.float32).reshape(info["shape"])
    return out


def load_projection(
    model_dir: str | None, model_id: str, native: int, dim: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """The learned (native → dim) matrix and bias from the model's ``projections.safetensors``."""
    path = Path(model_dir or "") / "projections.safetensors"
    if not path.is_file():
        raise ModelLoadError(
            f"{model_id} reduces dimensions with learned projections, but {path} is missing",
            hint="download the model's projections.safetensors too, or use its full dimension",
        )
    tensors = read_safetensors(path)
    found = []
    for key, t in tensors.items():
        if t.ndim == 2 and sorted(t.shape) == sorted((native, dim)):
            w = t if tuple(t.shape) == (native, dim) else t.T  # (d, n) is nn.Linear's layout
            bias_key = key[: -len("weight")] + "bias" if key.endswith("weight") else None
            b = tensors.get(bias_key) if bias_key else None
            found.append((np.ascontiguousarray(w), b))
    if len(found) != 1:
        offered = sorted({d for t in tensors.values() if t.ndim == 2 for d in t.shape if d != native})
        raise UsageError(
            f"--dim {dim}: {path.name} of {model_id} holds {len(found)} matrices of "
            f"shape {native}×{dim}; dims offered: {', '.join(map(str, [native, *offered[::-1]]))}"
        )
    return found[0]
