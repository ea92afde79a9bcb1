"""Which runtime runs a model: torch (sentence-transformers) or ONNX Runtime (fp32 or int8).

``--engine`` / ``ZSEARCH_ENGINE`` / the ``engine`` setting say ``auto`` (the default),
``torch``, ``onnx`` or ``onnx-int8``. ``auto`` runs a profile marked ``onnx`` (the bundled
MiniLM) with ONNX Runtime when it runs on the CPU, and everything else with torch: GPUs,
long-context models (zembed-1, Qwen3), any other hub or local model. Both engines give the
same vectors (cosine >= 0.9999; int8 close to them, not equal), so a database made by one is
searched by the other; nothing engine-specific is stored with it.

Deciding never imports torch: a GPU is "visible" when an NVIDIA device node exists and
``CUDA_VISIBLE_DEVICES`` does not hide every device.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from zsearch.config import DEFAULTS, ENGINES, check_engine
from zsearch.embedding.profiles import LONG_CONTEXT_TOKENS, Profile
from zsearch.errors import UsageError

log = logging.getLogger(__name__)

__all__ = ["ENGINES", "choose_engine", "gpu_visible", "onnx_refusal", "requested_engine"]
# Devices that mean "the CPU unless a GPU is there" (zsearch.embedding.runner_torch.resolve_devices).
AUTO_DEVICES = (None, "", "auto")


def requested_engine(engine: str | None) -> str:
    """``engine``, else ``$ZSEARCH_ENGINE``, else the default (``auto``); checked."""
    return check_engine(engine or os.environ.get(DEFAULTS["engine"][0]))


def gpu_visible() -> bool:
    """Whether an NVIDIA GPU is there for torch to use, asked without importing torch."""
    hidden = os.environ.get("CUDA_VISIBLE_DEVICES")
    if hidden is not None and hidden.strip() in ("", "-1"):
        return False
    return any(Path("/dev").glob("nvidia[0-9]*"))


def onnx_refusal(profile: Profile) -> str | None:
    """Why the ONNX engine will not run ``profile`` (``None``: it may try; the export checks the rest)."""
    if profile.trust_remote_code:
        return f"{profile.model_id} runs its own Python code"
    if profile.max_tokens is not None and profile.max_tokens >= LONG_CONTEXT_TOKENS:
        return f"{profile.model_id} is a long-context model"
    return None


def choose_engine(engine: str | None, profile: Profile, device: str | None) -> str:
    """``"torch"``, ``"onnx"`` or ``"onnx-int8"`` for ``profile`` on ``device`` (see the module docstring).

    An explicit ONNX engine with a GPU device is a :class:`UsageError` (ONNX Runtime runs on
    the CPU here); one the model cannot take falls back to torch with a one-line warning.
    """
    name = requested_engine(engine)
    cpu_only = device not in AUTO_DEVICES and all(d.strip() == "cpu" for d in str(device).split(","))
    on_cpu = cpu_only or (device in AUTO_DEVICES and not gpu_visible())
    if name == "auto":
        return "onnx" if profile.onnx and on_cpu and onnx_refusal(profile) is None else "torch"
    if name == "torch":
        return name
    if device not in AUTO_DEVICES and not cpu_only:
        raise UsageError(f"--engine {name} runs on the CPU, not {device}", hint="drop --device, or use --engine torch")
    why = onnx_refusal(profile)
    if why:
        log.warning("--engine %s: %s; using torch", name, why)
        return "torch"
    return name
