"""Table versions: pins (LanceDB tags) that keep a logged run's versions, and pruning that spares them.

LanceDB keeps every committed version of a table until ``optimize(cleanup_older_than=…)``
deletes the older ones. zsearch decides that age here, once, and passes it explicitly on
every ``optimize`` call (LanceDB's own default is 7 days):

* a **pin** is a LanceDB tag (``table.tags.create(name, version)``) on the versions a logged
  search or cluster run read (:mod:`zsearch.review.searchlog`), so ``zsearch log --rerun``
  still finds them months later. Tags are named after the version (``zsearch-v12``), so two
  runs that read the same version share one pin;
* **pruning** deletes versions older than the configured age (``[refresh]
  prune_older_than_days``, ``$ZSEARCH_REFRESH_PRUNE_DAYS``, default 7), never younger than
  the floor (``[refresh] prune_floor_hours``, ``$ZSEARCH_REFRESH_PRUNE_FLOOR_HOURS``, default
  1 hour: the version a running search or export reads stays), and never a pinned one.
  LanceDB 0.40's cleanup refuses to run at all when a tagged version is older than its
  cutoff ("tagged version(s) have been marked for cleanup"), so the cutoff stops a margin
  before the oldest pin: a pin also keeps the versions after it, until it is removed
  (:func:`unpin`).

``lancedb`` is not imported here: the functions take the tables a :class:`~zsearch.store.tables.Store` opened.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from zsearch.config import Settings
from zsearch.errors import UsageError

log = logging.getLogger("zsearch.store.versions")

# Prefix of the tags zsearch creates; other tags (a user's own) are kept too, never removed.
PIN_PREFIX = "zsearch-v"
# Versions older than this many days are pruned: LanceDB's own default for optimize()
# (7 days), long enough that no search or export still reads them.
DEFAULT_PRUNE_DAYS = 7.0
# Versions younger than this are never pruned, whatever the age asked for (even 0): a
# search, export or `--queries` run holds the version it opened for seconds to minutes.
DEFAULT_FLOOR_HOURS = 1.0
# How far before the oldest pinned version the cutoff stops: covers the seconds between
# our clock reading and LanceDB's, and a daylight-saving jump (version times are local).
PIN_MARGIN = timedelta(days=1)


class Tables(Protocol):
    """What this module reads of a :class:`~zsearch.store.tables.Store`: its two tables."""

    @property
    def exists(self) -> bool: ...
    @property
    def papers(self) -> Any: ...
    @property
    def chunks(self) -> Any: ...


# -- settings ---------------------------------------------------------------------------------

def _number(raw: Mapping[str, Any], key: str, env: str, default: float, unit: str) -> float:
    """``$env`` > ``[refresh] key`` of config.toml > default; a negative or non-number is a UsageError."""
    value: Any = os.environ.get(env) or (raw.get("refresh") or {}).get(key)
    if value is None or value == "":
        return default
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{key} must be a number of {unit}, not {value!r} (from ${env} or config.toml)") from None
    if out < 0:
        raise UsageError(f"{key} must be 0 or more {unit}, not {value!r} (from ${env} or config.toml)")
    return out


def prune_days(raw: Mapping[str, Any], flag: float | None = None) -> float:
    """Age of the versions to prune: ``--prune-older-than`` > ``$ZSEARCH_REFRESH_PRUNE_DAYS`` > ``[refresh] prune_older_than_days`` > 7."""
    if flag is not None:
        return flag
    return _number(raw, "prune_older_than_days", "ZSEARCH_REFRESH_PRUNE_DAYS", DEFAULT_PRUNE_DAYS, "days")


def floor_hours(raw: Mapping[str, Any]) -> float:
    """The youngest prunable age: ``$ZSEARCH_REFRESH_PRUNE_FLOOR_HOURS`` > ``[refresh] prune_floor_hours`` > 1."""
    return _number(raw, "prune_floor_hours", "ZSEARCH_REFRESH_PRUNE_FLOOR_HOURS", DEFAULT_FLOOR_HOURS, "hours")


def configured(home: Path) -> tuple[float, timedelta]:
    """``(prune days, floor)`` as configured for the database in ``home`` (environment, config.toml)."""
    raw = Settings.load(home).raw
    return prune_days(raw), timedelta(hours=floor_hours(raw))


def database_home(table: Any) -> Path:
    """The data directory a table lives in (``<home>/lancedb/<table>.lance``)."""
    return Path(table.uri).parent.parent


# -- pins ---------------------------------------------------------------------------------------

def pin_name(version: int) -> str:
    """The tag that pins ``version``: ``zsearch-v12``."""
    return f"{PIN_PREFIX}{int(version)}"


def _tables(store: Tables) -> dict[str, Any]:
    if not store.exists:
        return {}
    out = {"papers": store.papers}
    try:
        out["chunks"] = store.chunks
    except Exception:  # noqa: BLE001 - an old database without a chunks table
        pass
    return out


def tag_versions(store: Tables, versions: Mapping[str, int | None] | None = None) -> dict[str, str]:
    """Pin ``versions`` (``{"papers": 12, "chunks": 9}``; default: the tables' current ones).

    Returns ``{table: tag}`` for every version pinned. A pin that cannot be written (a
    read-only database) is logged, not raised: the run itself succeeded.
    """
    out: dict[str, str] = {}
    for name, table in _tables(store).items():
        v = table.version if versions is None else versions.get(name)
        if v is None:
            continue
        tag = pin_name(int(v))
        try:
            if tag not in table.tags.list():
                table.tags.create(tag, int(v))
        except Exception as exc:  # noqa: BLE001 - two processes pinning at once, or no write access
            try:
                ok = table.tags.get_version(tag) == int(v)
            except Exception:  # noqa: BLE001
                ok = False
            if not ok:
                log.warning("could not pin version %s of the %s table: %s", v, name, str(exc).splitlines()[0])
                continue
        out[name] = tag
    return out


def pins(store: Tables) -> dict[str, dict[str, int]]:
    """``{table: {tag: version}}`` of every zsearch pin."""
    return {name: {t: int(d["version"]) for t, d in table.tags.list().items() if t.startswith(PIN_PREFIX)}
            for name, table in _tables(store).items()}


def unpin(store: Tables, tag: str) -> bool:
    """Remove a zsearch pin from both tables (the next prune may then delete its version); True if one was there."""
    if not tag.startswith(PIN_PREFIX):
        raise UsageError(f"{tag!r} is not a zsearch pin (they are named {PIN_PREFIX}N)")
    found = False
    for table in _tables(store).values():
        if tag in table.tags.list():
            table.tags.delete(tag)
            found = True
    return found


# -- pruning ------------------------------------------------------------------------------------

def oldest_tagged(table: Any) -> datetime | None:
    """The commit time of the oldest tagged version of ``table`` (local time, as LanceDB gives it)."""
    tagged = {int(d["version"]) for d in table.tags.list().values()}
    if not tagged:
        return None
    times = [v["timestamp"] for v in table.list_versions() if int(v["version"]) in tagged]
    return min(times) if times else None


def cleanup_age(table: Any, older_than_days: float, floor: timedelta, *, now: datetime | None = None) -> timedelta:
    """The ``cleanup_older_than`` to pass for ``table``: the age asked for, at least ``floor``, and
    far enough back that no tagged version falls before the cutoff."""
    if older_than_days < 0:
        raise UsageError(f"the prune age must be 0 or more days, not {older_than_days}")
    age = max(timedelta(days=older_than_days), floor)
    oldest = oldest_tagged(table)
    if oldest is not None:
        now = now or datetime.now(oldest.tzinfo)
        age = max(age, now - oldest + PIN_MARGIN)
    return age


def optimize_table(table: Any, older_than_days: float | None, floor: timedelta | None = None) -> None:
    """``table.optimize()`` (compaction, index folding, pruning) with an explicit cleanup age.

    ``older_than_days`` None: prune as configured for the table's database (:func:`configured`);
    ``floor`` None: the configured floor.
    """
    if older_than_days is None or floor is None:
        days, conf_floor = configured(database_home(table))
        older_than_days = days if older_than_days is None else older_than_days
        floor = conf_floor if floor is None else floor
    age = cleanup_age(table, older_than_days, floor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lancedb warns about short ages; the floor is ours
        table.optimize(cleanup_older_than=age)


def version_counts(store: Tables) -> dict[str, int]:
    """How many versions each table keeps."""
    return {name: len(table.list_versions()) for name, table in _tables(store).items()}

