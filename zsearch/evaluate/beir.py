"""Retrieval evaluation on BEIR-format datasets (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv).

The corpus is ingested into a zsearch database like any other source (ids
``beir:<dataset>:<_id>``, source ``beir``), every query goes through
:meth:`zsearch.Library.search_many` — the same candidates, fusion, second stage and reranker
that ``zsearch search`` uses — and the run is scored with ranx (Bassani, ECIR 2022), not with
metrics written by hand. tests/test_evaluate.py checks ranx on a hand-computed toy case.

A database made for a dataset remembers the corpus's sha256 and the model in
``beir-corpus.json`` beside the tables, so a second evaluation reuses it instead of
re-embedding.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from zsearch.errors import NotFound, UsageError
from zsearch.papers.model import Hit, Paper

if TYPE_CHECKING:
    from zsearch.search.pipeline import SearchConfig

# The metrics BEIR reports (Thakur et al. 2021) plus MRR@10 (MS MARCO's headline metric).
METRICS = ("ndcg@10", "recall@100", "mrr@10")
# Depth of each query's run: Recall@100 needs 100 results.
RUN_DEPTH = 100
FINGERPRINT_FILE = "beir-corpus.json"
# a qrels score: an integer (BEIR uses 0, 1, 2; -1 marks a judged non-relevant in some sets)
_SCORE_RE = re.compile(r"-?[0-9]{1,9}")
ID_PREFIX = "beir"


Progress = Callable[[int, int], None]  # (papers done, tokens embedded), as Library.ingest_papers reports


class EvalLibrary(Protocol):
    """What an evaluation needs of a :class:`zsearch.Library`: its directory and model, ingest, and search."""

    home: Path
    model_name: str

    def model_info(self) -> tuple[str, int] | None: ...

    def count(self) -> int: ...

    def ingest_papers(self, items: Iterable[Paper], *, progress: Progress | None = ...) -> Any: ...

    def add_sentence_vectors(self, progress: Progress | None = ...) -> int: ...

    def search_many(self, queries: Sequence[str], k: int = ..., *, filters: Any = ...,
                    config: SearchConfig | None = ...) -> list[list[Hit]]: ...

    def default_config(self) -> SearchConfig: ...


@dataclass
class BeirData:
    """A BEIR dataset's split: documents, the queries that have judgements, and the judgements."""

    name: str
    corpus: dict[str, tuple[str, str]]  # _id -> (title, text)
    queries: dict[str, str]  # query id -> text (only queries judged in this split)
    qrels: dict[str, dict[str, int]]  # query id -> {doc _id: relevance}
    corpus_sha256: str = ""
    split: str = "test"


def _read_jsonl(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(FILE:LINE, record)`` per line: each an object with a text or number ``_id``.

    An evaluation needs the whole dataset, so a bad line (not UTF-8, not JSON, not such an
    object) stops the run with one UsageError naming ``FILE:LINE``.
    """
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, start=1):
            where = f"{path}:{n}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UsageError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UsageError(f"{where}: not a JSON line: {exc.msg}") from None
            except (ValueError, RecursionError):  # a 5,000-digit number; brackets nested too deep
                raise UsageError(f"{where}: not a JSON line a reader can take (a number too long or nesting too deep)") from None
            if not isinstance(rec, dict):
                raise UsageError(f"{where}: expected a JSON object, not {type(rec).__name__}")
            rid = rec.get("_id")
            if isinstance(rid, bool) or not isinstance(rid, (str, int)) or not str(rid).strip():
                raise UsageError(f"{where}: no \"_id\" (text or a number)")
            yield where, rec


def _field_text(rec: dict[str, Any], key: str, where: str) -> str:
    value = rec.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise UsageError(f"{where}: \"{key}\" must be text, not {type(value).__name__}")
    return value


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """BEIR qrels: a TSV with a ``query-id corpus-id score`` header; score 0 rows are kept (not relevant)."""
    if not path.is_file():
        raise NotFound(f"no qrels file at {path}")
    qrels: dict[str, dict[str, int]] = {}
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = csv.reader(fh, delimiter="\t")
            for n, row in enumerate(rows, start=1):
                if not row or (n == 1 and not _SCORE_RE.fullmatch(row[-1].strip())):
                    continue  # blank line or the header
                if len(row) < 3 or not _SCORE_RE.fullmatch(row[2].strip()):
                    raise UsageError(f"{path}:{n}: expected 'query-id<TAB>corpus-id<TAB>score' (score an integer)")
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise UsageError(f"{path}: not a TSV file ({exc})") from None
    return qrels


def load_beir(directory: str | Path, split: str = "test", name: str | None = None) -> BeirData:
    """Read a BEIR dataset directory; ``name`` defaults to the directory name (e.g. ``scifact``)."""
    d = Path(directory).expanduser()
    corpus_path, queries_path = d / "corpus.jsonl", d / "queries.jsonl"
    for p in (corpus_path, queries_path):
        if not p.is_file():
            raise NotFound(f"no {p.name} in {d}", hint="a BEIR dataset has corpus.jsonl, queries.jsonl and qrels/SPLIT.tsv")
    qrels_path = d / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        have = sorted(p.stem for p in (d / "qrels").glob("*.tsv")) if (d / "qrels").is_dir() else []
        raise NotFound(f"no qrels for split {split!r} in {d / 'qrels'}", hint=f"splits here: {', '.join(have) or 'none'}")
    qrels = read_qrels(qrels_path)
    corpus = {str(r["_id"]): (_field_text(r, "title", w), _field_text(r, "text", w)) for w, r in _read_jsonl(corpus_path)}
    queries = {str(r["_id"]): _field_text(r, "text", w) for w, r in _read_jsonl(queries_path) if str(r["_id"]) in qrels}
    qrels = {q: rel for q, rel in qrels.items() if q in queries}
    return BeirData(name or d.name, corpus, queries, qrels, file_sha256(corpus_path), split)


def paper_id(dataset: str, doc_id: str) -> str:
    return f"{ID_PREFIX}:{dataset}:{doc_id}"


def doc_id(dataset: str, pid: str) -> str:
    """Inverse of :func:`paper_id` (the BEIR ``_id`` a run file must name)."""
    prefix = f"{ID_PREFIX}:{dataset}:"
    return pid.removeprefix(prefix)


def beir_papers(data: BeirData) -> Iterator[Paper]:
    for did, (title, text) in data.corpus.items():
        yield Paper(id=paper_id(data.name, did), source=ID_PREFIX, title=title, abstract=text)


def ensure_ingested(lib: EvalLibrary, data: BeirData, progress: Progress | None = None) -> bool:
    """Ingest ``data``'s corpus unless ``lib`` already holds exactly it with this model; True if reused."""
    marker = lib.home / FINGERPRINT_FILE
    want = {"dataset": data.name, "corpus_sha256": data.corpus_sha256, "documents": len(data.corpus)}
    info = lib.model_info()  # (model id, dim) stored with the vectors; None for a new database
    if marker.is_file() and info is not None:
        try:
            have = json.loads(marker.read_text())
        except json.JSONDecodeError:
            have = {}
        if have == {**want, "model": info[0]} and lib.count() == len(data.corpus):
            lib.add_sentence_vectors(progress=progress)  # a database made before the sentence stage
            return True
    lib.ingest_papers(beir_papers(data), progress=progress)
    stored = lib.model_info()
    marker.write_text(json.dumps({**want, "model": stored[0] if stored else lib.model_name}, indent=2) + "\n")
    return False


# -- runs and metrics --------------------------------------------------------------------


def run_queries(
    lib: EvalLibrary,
    data: BeirData,
    config: SearchConfig | None = None,
    *,
    depth: int = RUN_DEPTH,
    filters: Any = None,
) -> dict[str, dict[str, float]]:
    """``{query id: {doc _id: score}}`` for every judged query, through the user's search path."""
    qids = list(data.queries)
    results = lib.search_many([data.queries[q] for q in qids], k=depth, config=config, filters=filters)
    run: dict[str, dict[str, float]] = {}
    for qid, hits in zip(qids, results):
        # ranks are what count: scores strictly decrease with rank so every tool sorts the same way
        run[qid] = {doc_id(data.name, h.id): float(len(hits) - i) for i, h in enumerate(hits)}
    return run


def score_run(qrels: Mapping[str, Mapping[str, int]], run: Mapping[str, Mapping[str, float]],
              metrics: Sequence[str] = METRICS) -> dict[str, float]:
    """Mean of each metric over the judged queries, computed by ranx.

    A query with no results scores 0 (ranx would drop it; BEIR counts it).
    """
    from ranx import Qrels, Run, evaluate

    q = {k: dict(v) for k, v in qrels.items() if any(r > 0 for r in v.values())}
    r = {k: dict(run.get(k) or {}) for k in q}
    empty = [k for k, v in r.items() if not v]
    for k in empty:
        r[k] = {"__none__": 0.0}  # a placeholder no qrels name: contributes 0 to every metric
    res = evaluate(Qrels(q), Run(r), list(metrics), make_comparable=True)
    if isinstance(res, float):
        res = {metrics[0]: res}
    return {m: float(res[m]) for m in metrics}


def write_trec_run(run: Mapping[str, Mapping[str, float]], path: str | Path, tag: str = "zsearch") -> None:
    """TREC run format: ``qid Q0 docid rank score tag``, best first."""
    with Path(path).expanduser().open("w", encoding="utf-8") as fh:
        for qid, docs in run.items():
            ordered = sorted(docs.items(), key=lambda kv: (-kv[1], kv[0]))
            for rank, (did, score) in enumerate(ordered, start=1):
                fh.write(f"{qid} Q0 {did} {rank} {score:.6f} {tag}\n")


@dataclass
class EvalResult:
    name: str
    metrics: dict[str, float]
    seconds: float
    queries: int
    run: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.name, **{m: round(v, 4) for m, v in self.metrics.items()},
                "queries": self.queries, "seconds": round(self.seconds, 1)}


def evaluate_configs(
    lib: EvalLibrary,
    data: BeirData,
    configs: Mapping[str, SearchConfig | None],
    *,
    filters: Any = None,
) -> list[EvalResult]:
    """Run and score each named configuration on ``data``."""
    import time

    out = []
    for name, cfg in configs.items():
        t0 = time.perf_counter()
        run = run_queries(lib, data, cfg, filters=filters)
        secs = time.perf_counter() - t0
        out.append(EvalResult(name, score_run(data.qrels, run), secs, len(run), run))
    return out


def compare_configs(rerank: str | None = None, rerank_top: int | None = None) -> dict[str, SearchConfig]:
    """dense only, BM25 only, plain RRF, the second-stage candidates, the default, and + rerank."""
    from zsearch.search.pipeline import DEFAULT_CONFIG, NO_SENTENCE_CONFIG, SearchConfig

    cfgs: dict[str, SearchConfig] = {
        "dense": SearchConfig(mode="dense"),
        "dense + sentence stage": SearchConfig(mode="dense", sentence_weight=DEFAULT_CONFIG.sentence_weight),
        "bm25": SearchConfig(mode="bm25"),
        "hybrid (RRF k=60)": SearchConfig(mode="hybrid", fusion="rrf"),
        # field weighting: BM25 over titles as a third list (best weight for BM25 alone: 0.2)
        "hybrid + title field (convex)": SearchConfig(mode="hybrid", fusion="convex", title_field=True,
                                                      weights={"dense": 0.5, "bm25": 0.5, "title": 0.1}),
        "hybrid (convex 0.5/0.5)": NO_SENTENCE_CONFIG,
        "hybrid + sentence stage (convex 0.5/0.5)": NO_SENTENCE_CONFIG.replace(
            sentence_weight=DEFAULT_CONFIG.sentence_weight),
        "default (sentence stage, convex 0.7/0.3)": DEFAULT_CONFIG,
    }
    if rerank:
        cfgs[f"default + rerank {rerank} (top {rerank_top or DEFAULT_CONFIG.rerank_top})"] = DEFAULT_CONFIG.replace(
            rerank=rerank, rerank_top=rerank_top or DEFAULT_CONFIG.rerank_top)
    return cfgs


def configs_for(lib: EvalLibrary, *, compare: bool = False, mode: str = "hybrid", rerank: str | None = None,
                rerank_top: int | None = None) -> dict[str, SearchConfig]:
    """The configurations ``zsearch eval beir`` scores: :func:`compare_configs` with ``compare``, else
    the database's default configuration in ``mode`` (hybrid, dense or bm25), reranked when ``rerank`` names a model."""
    if compare:
        return compare_configs(rerank, rerank_top)
    cfg = lib.default_config().replace(mode=mode, rerank=rerank, rerank_top=rerank_top)
    return {("default" if mode == "hybrid" else mode) + (f" + rerank {rerank}" if rerank else ""): cfg}


def default_result(results: Sequence[EvalResult]) -> EvalResult:
    """The result whose run ``--run`` writes: the default configuration's, else the last one."""
    return next((r for r in results if "default" in r.name), results[-1])


def results_payload(data: BeirData, model: str, results: Sequence[EvalResult]) -> dict[str, Any]:
    """``zsearch eval beir --format json``: the dataset, split, corpus size, model and each configuration's scores."""
    return {"dataset": data.name, "split": data.split, "documents": len(data.corpus), "model": model,
            "results": [r.to_dict() for r in results]}


def fmt_metric(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.4f}"
