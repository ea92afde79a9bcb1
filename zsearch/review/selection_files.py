"""Files that carry a review's selection: id lists in, cluster JSON out and back in.

``zsearch cluster --format json`` writes :func:`cluster_json`; ``zsearch export
--cluster-json`` reads it back (:func:`read_cluster_json`) to carry each paper's theme into
RIS/BibTeX keywords; ``--ids FILE`` takes :func:`read_id_list`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zsearch.errors import NotFound, UsageError
from zsearch.papers.model import Paper

if TYPE_CHECKING:
    from zsearch.review.cluster import Clustering


def read_id_list(text: str) -> list[str]:
    """Paper ids from text: one per line (first column of CSV/TSV lines is fine), ``#``
    comments and blank lines skipped, duplicates dropped, order kept. A JSON Lines
    file of records with an ``id`` field also works (e.g. ``zsearch search --format jsonl``).
    """
    out: list[str] = []
    seen: set[str] = set()
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("{"):
            try:
                s = str(json.loads(s)["id"])
            except (ValueError, KeyError, TypeError):
                raise UsageError(f"a JSON line without an 'id': {s[:60]}") from None
        else:
            s = re.split(r"[\t,]", s)[0].strip().strip('"')
        if s == "id" or not s:  # a CSV header
            continue
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def cluster_records(c: Clustering, papers: Mapping[str, Paper]) -> list[dict[str, Any]]:
    """One flat record per paper (:data:`CLUSTER_COLUMNS`): theme, label, rank within the theme, distance, metadata."""
    rows = []
    for t in c.themes:
        for r, (pid, d) in enumerate(zip(t.ids, t.distances), 1):
            p = papers[pid]
            rows.append({"theme": t.theme, "label": t.label, "rank": r, "distance": d, "id": pid,
                         "year": p.year, "title": p.title, "doi": p.doi, "url": p.url})
    return rows


def cluster_json(c: Clustering, papers: Mapping[str, Paper], question: str | None) -> dict[str, Any]:
    """``zsearch cluster --format json``: the question, the clustering, and each theme's papers (id, title, year, distance)."""
    d = {"question": question, **c.to_dict()}
    for t in d["themes"]:
        t["papers"] = [{"id": pid, "title": papers[pid].title, "year": papers[pid].year, "distance": dist}
                       for pid, dist in zip(t["ids"], t["distances"])]
    return d


def read_cluster_json(path: Path) -> tuple[list[str], dict[str, tuple[int, str]]]:
    """:func:`themes_from_cluster_json` of a file; NotFound when it is missing, UsageError when it is not JSON."""
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFound(f"no file at {path}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not JSON ({exc.msg})") from None
    return themes_from_cluster_json(obj)


def themes_from_cluster_json(obj: Any) -> tuple[list[str], dict[str, tuple[int, str]]]:
    """Paper ids (theme by theme) and ``id -> (theme, label)`` from ``zsearch cluster --format json``."""
    if isinstance(obj, dict) and "themes" in obj:
        themes = obj["themes"]
    elif isinstance(obj, list):
        themes = obj
    else:
        raise UsageError("not a zsearch cluster result: expected an object with 'themes'")
    ids: list[str] = []
    out: dict[str, tuple[int, str]] = {}
    for t in themes:
        try:
            num, label = int(t["theme"]), str(t["label"])
            members = t["ids"] if "ids" in t else [p["id"] for p in t["papers"]]
        except (KeyError, TypeError, ValueError):
            raise UsageError("not a zsearch cluster result: a theme lacks theme/label/ids") from None
        for pid in members:
            if pid not in out:
                ids.append(pid)
                out[pid] = (num, label)
    return ids, out
