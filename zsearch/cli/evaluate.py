"""``zsearch eval beir``: score retrieval on a BEIR-format dataset (nDCG@10, Recall@100, MRR@10)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import typer

from zsearch.cli import check_format, err
from zsearch.cli.review import eval_app


@eval_app.command("beir")
def eval_beir(
    directory: Path = typer.Argument(..., help="A BEIR dataset directory: corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv."),
    split: str = typer.Option("test", "--split", help="Which qrels/SPLIT.tsv to score (train, dev, test)."),
    compare: bool = typer.Option(False, "--compare", help="Score dense only, BM25 only, plain RRF hybrid, fusion variants, the default "
                                 "(convex fusion) and, with --rerank, default + rerank, in one table."),
    run_file: Path | None = typer.Option(None, "--run", help="Write the run (default configuration) in TREC format here."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    db: Path | None = typer.Option(None, "--db", help="Database to ingest the corpus into and reuse (default: a "
                                      "throw-away one). Reused when it already holds this corpus with this model."),
    model: str | None = typer.Option(None, "--model", help="Embedding model for a new database (default: minilm)."),
    rerank: str | None = typer.Option(None, "--rerank", help="Rerank with this cross-encoder (profile, hub name or path)."),
    rerank_top: int = typer.Option(50, "--rerank-top", help="Candidates the reranker re-orders."),
    mode: str = typer.Option("hybrid", "--mode", help="hybrid, dense or bm25 (without --compare)."),
) -> None:
    """Evaluate search on a BEIR dataset through the same search path `zsearch search` takes.

    Example: zsearch eval beir ~/data/beir/scifact --split train --compare --db /tmp/scifact-db
    """
    check_format(fmt, ("table", "json"))
    from zsearch.evaluate import beir as ev
    from zsearch.library import Library

    data = ev.load_beir(directory, split)
    tmp = None
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="zsearch-eval-")
        db = Path(tmp.name)
    try:
        lib = Library.open(db, model=model)
        from zsearch.cli.core import progress_bar

        with progress_bar(f"ingest {data.name}", len(data.corpus)) as advance:
            reused = ev.ensure_ingested(lib, data, progress=advance)
        err.print(f"{'reusing' if reused else 'ingested'} {len(data.corpus)} documents in {lib.home}; "
                  f"{len(data.queries)} {split} queries")
        if compare:
            configs = ev.compare_configs(rerank, rerank_top)
        else:
            cfg = lib.default_config().replace(mode=mode, rerank=rerank, rerank_top=rerank_top)
            configs = {("default" if mode == "hybrid" else mode) + (f" + rerank {rerank}" if rerank else ""): cfg}
        results = ev.evaluate_configs(lib, data, configs)
        if run_file is not None:
            pick = next((r for r in results if "default" in r.name), results[-1])
            ev.write_trec_run(pick.run, run_file, tag=pick.name.replace(" ", "_"))
            err.print(f"run ({pick.name}) written to {run_file}")
    finally:
        if tmp is not None:
            tmp.cleanup()
    if fmt == "json":
        payload = {"dataset": data.name, "split": split, "documents": len(data.corpus), "model": lib.model_name,
                   "results": [r.to_dict() for r in results]}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    from rich.table import Table

    from zsearch.cli import out

    table = Table(title=f"{data.name} ({split}, {len(data.queries)} queries, {len(data.corpus)} docs)", pad_edge=False)
    table.add_column("configuration")
    for m in ev.METRICS:
        table.add_column(m, justify="right")
    table.add_column("s/query", justify="right")
    for r in results:
        table.add_row(r.name, *(ev.fmt_metric(r.metrics[m]) for m in ev.METRICS),
                      f"{r.seconds / max(r.queries, 1):.3f}")
    out.print(table)
