"""How a query is answered: :class:`SearchConfig`, the measured defaults, and the depth constants.

Every knob of the search pipeline (:mod:`zsearch.search.pipeline`) lives here with the
measurement that chose its default; docs/search.md explains each, docs/benchmarks.md lists
every candidate value that was measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from zsearch.errors import UsageError
from zsearch.search.fusion import RRF_K

# Candidates taken from each retriever before fusion: 100 covers Recall@100 and gives a
# reranker its top 50 with room to spare.
CANDIDATE_DEPTH = 100
# Passages read per query: several passages of one paper often rank together.
PASSAGE_DEPTH_FACTOR = 3
MODES = ("hybrid", "dense", "bm25")
FUSIONS = ("rrf", "convex")


@dataclass(frozen=True)
class SearchConfig:
    """How a query is answered. :data:`DEFAULT_CONFIG` is what every search uses unless told."""

    mode: str = "hybrid"  # hybrid | dense | bm25
    fusion: str = "rrf"  # rrf | convex (min-max normalised scores)
    rrf_k: int = RRF_K
    weights: Mapping[str, float] | None = None  # per list: dense, bm25, title
    depth: int = CANDIDATE_DEPTH
    title_field: bool = False  # add BM25 over titles alone as a third list
    rerank: str | None = None  # a reranker profile, hub name or path
    rerank_top: int = 50
    sentence_weight: float = 0.0  # w of the sentence stage; 0 switches it off
    extra: Mapping[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> SearchConfig:
        return replace(self, **changes)

    def check(self) -> SearchConfig:
        if self.mode not in MODES:
            raise UsageError(f"unknown search mode {self.mode!r}; choose one of: {', '.join(MODES)}")
        if self.fusion not in FUSIONS:
            raise UsageError(f"unknown fusion {self.fusion!r}; choose one of: {', '.join(FUSIONS)}")
        if self.rerank_top < 1:
            raise UsageError("--rerank-top must be at least 1")
        if not 0.0 <= self.sentence_weight <= 1.0:
            raise UsageError("the sentence weight must be between 0 and 1")
        return self


# The default: the sentence stage (w 0.5), then a convex combination of min-max normalised
# dense (0.7) and BM25 (0.3) scores (Bruch et al., TOIS 2023). Chosen with the bundled MiniLM
# on SciFact's train split (5,183 abstracts, 809 queries; docs/benchmarks.md, "Search
# quality", lists every candidate): without the sentence stage the best fusion was convex
# 0.5/0.5 at nDCG@10 0.7341 (RRF k=60: 0.7132); with it, dense carries more of the weight:
# 0.7484, and 0.7500 with abstract-only papers stored as ingest now stores them.
# The grid (w 0.3/0.5/0.7 x dense 0.6-0.8) gave the same choice on both halves of the
# queries.
DEFAULT_CONFIG = SearchConfig(fusion="convex", weights={"dense": 0.7, "bm25": 0.3}, sentence_weight=0.5)
# Without the sentence stage (a database whose papers have no sentence vectors, or
# `--compare`'s baseline row): the best fusion measured for that case.
NO_SENTENCE_CONFIG = SearchConfig(fusion="convex", weights={"dense": 0.5, "bm25": 0.5})


def rerank_choice(flag: str | None, default: str | None) -> str | None:
    """The reranker a search uses: the flag when given, else the default; ``none`` (any case) turns it off.

    So ``--rerank none`` switches off a reranker the ``rerank`` setting configures. Any other
    value comes back as it is (callers read an empty name as "no reranker" too).

    >>> rerank_choice(None, "zerank-1-small")
    'zerank-1-small'
    >>> rerank_choice("None", "zerank-1-small") is None
    True
    >>> rerank_choice("zerank-2", None)
    'zerank-2'
    >>> rerank_choice(None, None) is None
    True
    """
    name = flag if flag is not None else default
    if name and name.strip().lower() == "none":
        return None
    return name
