"""Ingest on a Ray cluster (``zsearch ingest pubmed-xml|arxiv-dump … --ray ADDRESS``): parsing and
embedding run as Ray tasks; the driver folds, detects changes and commits, once per batch.

Division of the work:

* **parsing**: each PubMed file is a task (:func:`parse_task`) that returns the file's items in
  order; the driver keeps :data:`PARSE_AHEAD` files parsing ahead of the one it ingests and
  applies them in the order given (a later file's record or deletion wins, as without Ray).
  The arXiv snapshot is one JSON-lines file: the driver streams it (tens of thousands of
  lines a second; the embedding is the cost);
* **embedding**: the papers of a batch that need vectors are cut into slices of
  :data:`TASK_PAPERS`, each a task (:func:`embed_task`) that runs the same encoding policy as
  a single process (zsearch.ingest.encode.embed_papers) with a model loaded once per worker
  process, on a GPU when the cluster has them;
* **the commit**: everything else — identity folding onto stored papers, change detection,
  the one commit path with its journal — is the single-process Ingestor
  (zsearch.ingest.pipeline), run in the driver. Workers never write to the database.

A worker that dies mid-task (killed, out of memory, its node lost) has its task run again
by Ray (:data:`TASK_RETRIES`); tasks have no side effects, so a retried slice cannot be
committed twice, and the batch is committed only once every slice is back. ``ray`` is
imported only here and only when a ``--ray`` command runs (the ``ray`` extra).
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zsearch.errors import RecordError, UsageError
from zsearch.ingest.encode import Encoder, embed_papers
from zsearch.papers.model import Deletion, Paper

# Papers committed per batch with --ray: 8 tasks of TASK_PAPERS, enough to keep 8 workers
# busy while the driver commits one LanceDB version per batch (ZSEARCH_WRITE_BATCH overrides).
RAY_BATCH = 512
# Papers per embedding task: what the single-process write batch was (64), so a task is a
# few seconds of CPU and a retried one repeats little work.
TASK_PAPERS = 64
# PubMed files parsed ahead of the one being ingested: a baseline file is ~30,000 citations
# (~100 MB of Papers), so two ahead keeps the parsers busy without holding the corpus.
PARSE_AHEAD = 2
# Ray's own default for tasks (https://docs.ray.io/en/latest/ray-core/fault_tolerance/tasks.html):
# a task whose worker process dies is run again up to this many times.
TASK_RETRIES = 3
# What `--ray local` means: start a Ray instance on this machine (or join $RAY_ADDRESS).
LOCAL = "local"


@dataclass(frozen=True)
class ModelSpec:
    """What a worker needs to load the database's model: the same arguments the driver's load took."""

    name: str
    dim: int | None = None
    max_tokens: int | None = None
    device: str | None = None


_WORKER_MODELS: dict[ModelSpec, Encoder] = {}  # per worker process: loaded once, reused by its next tasks


def _worker_model(spec: ModelSpec) -> Any:
    if spec not in _WORKER_MODELS:
        from zsearch.embedding.embedder import load_embedder

        _WORKER_MODELS[spec] = load_embedder(spec.name, device=spec.device, dim=spec.dim, max_tokens=spec.max_tokens)
    return _WORKER_MODELS[spec]


def embed_task(spec: ModelSpec, papers: list[Paper], added: dict[str, Any], target_of: dict[str, str | None],
               now: Any) -> tuple[str, list[dict], list[dict], int]:
    """A Ray task: ``(model id, paper rows, passage rows, tokens)`` for a slice of a batch.

    ``added``: the stored ``added`` time of each updated paper (all embed_papers reads of a stored row).
    """
    emb = _worker_model(spec)
    old_rows = {sid: {"added": t} for sid, t in added.items()}
    rows, chunks, tokens = embed_papers(emb, papers, old_rows, target_of, now)
    return emb.model_id, rows, chunks, tokens


def parse_task(path: str) -> list[tuple[str, Any]]:
    """A Ray task: a PubMed file's items in file order, as ``(kind, value)`` pairs.

    A RecordError does not pickle with its ``record`` (an exception keeps only its args), so
    it travels as ``("error", (message, record))`` and is rebuilt by the driver.
    """
    from zsearch.sources.dumps import read_pubmed_xml

    out: list[tuple[str, Any]] = []
    for item in read_pubmed_xml(path):
        if isinstance(item, RecordError):
            out.append(("error", (item.message, item.record)))
        else:
            out.append(("item", item))
    return out


def _rebuilt(kind: str, value: Any) -> Paper | Deletion | RecordError:
    return RecordError(value[0], record=value[1]) if kind == "error" else value


class RayEncode:
    """The Ingestor's ``encode`` on Ray: the papers of a batch, sliced into :func:`embed_task` tasks."""

    def __init__(self, spec: ModelSpec, task_papers: int = TASK_PAPERS):
        import ray

        self.spec = spec
        self.task_papers = max(1, task_papers)
        gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
        self.task = ray.remote(embed_task).options(num_gpus=gpus, max_retries=TASK_RETRIES, retry_exceptions=False)
        self.spec_ref = ray.put(spec)

    def __call__(self, emb: Encoder, papers: list[Paper], old_rows: dict[str, Any],
                 target_of: dict[str, str | None], now: Any) -> tuple[list[dict], list[dict], int]:
        import ray

        refs = []
        for i in range(0, len(papers), self.task_papers):
            part = papers[i : i + self.task_papers]
            targets = {p.id: target_of.get(p.id) for p in part}
            added = {sid: old_rows[sid]["added"] for sid in targets.values() if sid and sid in old_rows}
            refs.append(self.task.remote(self.spec_ref, part, added, targets, now))
        rows: list[dict] = []
        chunks: list[dict] = []
        tokens = 0
        for model_id, r, c, t in ray.get(refs):  # in slice order: rows come back in the batch's order
            if model_id != emb.model_id:
                raise UsageError(f"a Ray worker embedded with {model_id}, the database with {emb.model_id}",
                                 hint="install the same zsearch and model on every node")
            rows += r
            chunks += c
            tokens += t
        return rows, chunks, tokens


def pubmed_items(files: Sequence[str | Path], ahead: int = PARSE_AHEAD) -> Iterator[Paper | Deletion | RecordError]:
    """The items of PubMed files parsed by :func:`parse_task` tasks, ``ahead`` files in advance, in file order."""
    import ray

    task = ray.remote(parse_task).options(max_retries=TASK_RETRIES, retry_exceptions=False)
    todo = iter([str(Path(f).resolve()) for f in files])
    pending: deque[Any] = deque(task.remote(f) for f in _take(todo, ahead + 1))
    while pending:
        items = ray.get(pending.popleft())
        pending.extend(task.remote(f) for f in _take(todo, 1))
        yield from (_rebuilt(kind, value) for kind, value in items)


def _take(it: Iterator[str], n: int) -> list[str]:
    return [x for _, x in zip(range(n), it)]


@contextlib.contextmanager
def ray_cluster(address: str) -> Iterator[None]:
    """Connected to Ray for the ``with`` block: ``local`` starts an instance here (shut down after);
    ``auto``, ``HOST:PORT`` or ``ray://HOST:10001`` joins a running cluster. A process already
    connected (a test's ``ray.init``) keeps its connection."""
    try:
        import ray
    except ImportError:
        raise UsageError("--ray needs the ray package", hint="pip install 'zsearch[ray]'") from None
    if ray.is_initialized():
        yield
        return
    kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    if address == LOCAL:
        ray.init(**kw)
    else:
        ray.init(address=address, **kw)
    try:
        yield
    finally:
        ray.shutdown()


def items_on_ray(kind: str, files: Iterable[str | Path]) -> Iterator[Any]:
    """The items of a dump ingest with parsing on Ray where it splits (PubMed: one task per file)."""
    files = list(files)
    if kind == "pubmed-xml":
        return pubmed_items(files)
    if kind == "arxiv-dump":
        from zsearch.sources.dumps import read_arxiv_dump

        return (item for f in files for item in read_arxiv_dump(f))
    raise UsageError(f"--ray ingests pubmed-xml or arxiv-dump files, not {kind!r}")
