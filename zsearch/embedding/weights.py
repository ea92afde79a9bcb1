"""Whether the Hugging Face hub can be reached, asked without waiting on a hanging download.

Shared by the embedders and rerankers: a model that is not cached is only fetched when the
hub answers a TCP connection quickly; otherwise loading fails at once with instructions.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

# Seconds to wait for a TCP connection to the hub before calling it unreachable.
HUB_CONNECT_TIMEOUT = 3.0


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
