"""Clustering scored against known classes: labelled-record files, V-measure / ARI / NMI, majority classes.

``zsearch eval clusters`` reads a file of records that carry their true class
(:func:`read_labelled`), embeds and clusters the texts with zsearch's own clustering and
scores the themes against the classes (:func:`evaluate_clusters`). The clustering and the
encoder are passed in (this room sits beside ``zsearch.review``, not above it), so
everything here but the file reading is a pure function of its arguments.

The scores are scikit-learn's (imported inside :func:`cluster_scores`, so importing this
module stays cheap): V-measure (Rosenberg & Hirschberg 2007), the adjusted Rand index
(Hubert & Arabie 1985) and normalised mutual information.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from zsearch.errors import NotFound, UsageError

# Digits of the ids given to records (zero-padded, so sorting ids keeps file order):
# 9 digits number a billion records, more than any labelled set held in memory.
ID_DIGITS = 9
# Decimal places of the reported scores and majority shares, as `zsearch eval clusters` prints them.
SCORE_DIGITS = 6
SHARE_DIGITS = 4


@dataclass
class Labelled:
    """Records with their true class: the text to embed, the label, and the fields the text came from."""

    texts: list[str]
    labels: list[str]
    fields: list[str]


class ThemeLike(Protocol):
    """What is read of one theme (``zsearch.review.cluster.Theme``)."""

    theme: int
    label: str
    size: int
    ids: list[str]
    terms: list[str]


class ClusteringLike(Protocol):
    """What is read of a clustering (``zsearch.review.cluster.Clustering``)."""

    k: int
    assignment: dict[str, int]
    seed: int
    method: str

    @property
    def themes(self) -> Sequence[ThemeLike]: ...

    @property
    def k_reason(self) -> str: ...


# (ids, vectors, texts) -> clustering; e.g. ``functools.partial(cluster_papers, k=5, seed=42)``.
Clusterer = Callable[[list[str], Any, list[str]], ClusteringLike]
# texts -> one vector per text; e.g. ``load_embedder("minilm").encode_documents``.
Encoder = Callable[[list[str]], Any]


def text_fields_of(keys: set[str], given: Sequence[str] | None = None) -> list[str] | None:
    """The fields whose values make a record's text: ``given``, else title + abstract (or text).

    BEIR-style records call the abstract ``text``. None when no field is known to hold text.

    >>> text_fields_of({"title", "abstract", "y"})
    ['title', 'abstract']
    >>> text_fields_of({"title", "text", "y"})
    ['title', 'text']
    >>> text_fields_of({"body", "y"}, ["body"])
    ['body']
    >>> text_fields_of({"body", "y"}) is None
    True
    """
    if given:
        return list(given)
    if not {"title", "abstract", "text"} & keys:
        return None
    fields = [f for f in ("title", "abstract") if f in keys]
    if "abstract" not in keys and "text" in keys:
        fields.append("text")
    return fields


def parse_labelled(
    rows: Sequence[Mapping[str, Any]], label: str, text_fields: Sequence[str] | None = None, *, source: str = "the records"
) -> Labelled:
    """Texts, labels and the text fields used, from records (dicts) carrying a ``label`` field.

    The field names of the first record are the file's fields. Empty fields are skipped;
    the others are joined with a blank line. ``source`` names the file in error messages.

    >>> rows = [{"title": "Malaria in Kenya", "abstract": "Cases rose.", "topic": "malaria"},
    ...         {"title": "Insulin pumps", "abstract": "", "topic": "diabetes"}]
    >>> parse_labelled(rows, "topic")
    Labelled(texts=['Malaria in Kenya\\n\\nCases rose.', 'Insulin pumps'], labels=['malaria', 'diabetes'], fields=['title', 'abstract'])
    >>> parse_labelled(rows, "class")
    Traceback (most recent call last):
    ...
    zsearch.errors.UsageError: no field 'class' in the records; fields: abstract, title, topic
    """
    if not rows:
        raise UsageError(f"{source} holds no records")
    keys = set(rows[0])
    if label not in keys:
        raise UsageError(f"no field {label!r} in {source}; fields: {', '.join(sorted(keys))}")
    fields = text_fields_of(keys, text_fields)
    if fields is None:
        raise UsageError(f"which fields hold the text? pass --text-field; fields: {', '.join(sorted(keys))}")
    missing = [f for f in fields if f not in keys]
    if missing:
        raise UsageError(f"no field {missing[0]!r} in {source}; fields: {', '.join(sorted(keys))}")
    texts = ["\n\n".join(str(r.get(f) or "") for f in fields if r.get(f)) for r in rows]
    labels = [str(r.get(label)) for r in rows]
    return Labelled(texts, labels, fields)


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON Lines file, or of a CSV/TSV file (by its suffix) with a header row."""
    if not path.exists():
        raise NotFound(f"no file at {path}")
    if path.suffix.lower() in (".csv", ".tsv"):
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh, delimiter="\t" if path.suffix.lower() == ".tsv" else ","))
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    raise UsageError(f"{path}:{n}: not a JSON line") from None
    return rows


def read_labelled(path: Path, label: str, text_fields: Sequence[str] | None = None) -> Labelled:
    """:func:`parse_labelled` over the records of a JSON Lines or CSV file (:func:`read_records`)."""
    return parse_labelled(read_records(path), label, text_fields, source=str(path))


def cluster_scores(labels: Sequence[str], predicted: Sequence[int]) -> dict[str, float]:
    """V-measure, ARI and NMI of a clustering against the true labels (scikit-learn), 6 places.

    All three are 1 when clusters and classes match (whatever the cluster numbers), and 0
    when one cluster holds everything: it says nothing about the classes.

    >>> cluster_scores(["a", "a", "b", "b"], [1, 1, 0, 0])
    {'v_measure': 1.0, 'ari': 1.0, 'nmi': 1.0}
    >>> cluster_scores(["a", "a", "b", "b"], [0, 0, 0, 0])
    {'v_measure': 0.0, 'ari': 0.0, 'nmi': 0.0}
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score

    return {
        "v_measure": round(float(v_measure_score(labels, predicted)), SCORE_DIGITS),
        "ari": round(float(adjusted_rand_score(labels, predicted)), SCORE_DIGITS),
        "nmi": round(float(normalized_mutual_info_score(labels, predicted)), SCORE_DIGITS),
    }


def majority_class(labels: Sequence[str]) -> tuple[str, float]:
    """The most common label of a theme's records and its share (4 places); ties go to the first seen.

    >>> majority_class(["flu", "covid", "flu"])
    ('flu', 0.6667)
    >>> majority_class(["covid", "flu"])
    ('covid', 0.5)
    """
    cls, n = Counter(labels).most_common(1)[0]
    return cls, round(n / len(labels), SHARE_DIGITS)


def record_ids(n: int) -> list[str]:
    """Ids for ``n`` records, zero-padded so that id order is file order.

    >>> record_ids(3)
    ['000000000', '000000001', '000000002']
    """
    return [f"{i:0{ID_DIGITS}d}" for i in range(n)]


def theme_summaries(clustering: ClusteringLike, labels: Sequence[str]) -> list[dict[str, Any]]:
    """Per theme: number, label, size, majority class, its share and the terms (ids from :func:`record_ids`)."""
    themes = []
    for t in clustering.themes:
        cls, share = majority_class([labels[int(i)] for i in t.ids])
        themes.append({"theme": t.theme, "label": t.label, "size": t.size, "majority_class": cls,
                       "majority_share": share, "terms": t.terms})
    return themes


def evaluate_clusters(records: Labelled, *, encode: Encoder, cluster: Clusterer, model: str) -> dict[str, Any]:
    """Embed and cluster labelled records, then score the themes against the labels.

    ``model`` is only recorded (it names what ``encode`` embeds with). The result holds
    the scores (:func:`cluster_scores`), ``k``, ``n``, ``classes``, ``method``, ``seed``,
    ``model``, ``k_reason`` and the themes (:func:`theme_summaries`): what
    ``zsearch eval clusters --format json`` prints.
    """
    ids = record_ids(len(records.texts))
    vectors = encode(records.texts)
    c = cluster(ids, vectors, records.texts)
    scores = cluster_scores(records.labels, [c.assignment[i] for i in ids])
    return {**scores, "k": c.k, "n": len(records.texts), "classes": len(set(records.labels)), "method": c.method,
            "seed": c.seed, "model": model, "k_reason": c.k_reason,
            "themes": theme_summaries(c, records.labels)}
