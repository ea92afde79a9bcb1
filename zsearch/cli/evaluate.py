"""``zsearch eval``: score retrieval on a BEIR dataset (``eval beir``) and clustering on labelled records (``eval clusters``)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import typer

from zsearch.cli import app, check_format, err
from zsearch.cli.review import DEFAULT_SEED, parse_k

eval_app = typer.Typer(help="Evaluate retrieval and clustering against labelled data.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


# `eval clusters` registers first: `zsearch eval --help` has always listed it first.
@eval_app.command("clusters")
def eval_clusters(
    file: Path = typer.Argument(..., help="Labelled records: JSON Lines or CSV."),
    label: str = typer.Option(..., "--label", help="The field holding each record's true class."),
    k: str = typer.Option("auto", "--k", help="Number of clusters, or 'auto' (silhouette)."),
    text_field: list[str] | None = typer.Option(None, "--text-field", help="Field(s) to embed (default: title + abstract, else text)."),
    model: str = typer.Option("minilm", "--model", help="Embedding model (default: the bundled minilm)."),
    method: str | None = typer.Option(None, "--method", help="Vector preparation: smoothed (default), smoothed-dense, centered, plain, pca-whiten, hybrid."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="KMeans random seed."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Cluster labelled records with zsearch's clustering; report V-measure, ARI and NMI.

    Example: zsearch eval clusters abstracts.jsonl --label category --k 5 --format json
    """
    check_format(fmt, ("table", "json"))
    from functools import partial

    from zsearch.embedding.embedder import load_embedder
    from zsearch.evaluate.clusters import evaluate_clusters, read_labelled
    from zsearch.review.cluster import DEFAULT_METHOD, cluster_papers

    kk = parse_k(k)
    records = read_labelled(file, label, text_field)
    err.print(f"embedding {len(records.texts)} records ({' + '.join(records.fields)}) with {model}…")
    result = evaluate_clusters(records, encode=load_embedder(model).encode_documents, model=model,
                               cluster=partial(cluster_papers, k=kk, seed=seed, method=method or DEFAULT_METHOD))
    if fmt == "json":
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        return
    from rich.table import Table

    from zsearch.cli import out

    out.print(f"V-measure {result['v_measure']:.4f}  ARI {result['ari']:.4f}  NMI {result['nmi']:.4f}  "
              f"(k={result['k']}, {result['classes']} classes, {result['n']} records, method {result['method']})")
    out.print(result["k_reason"], soft_wrap=True)
    table = Table(pad_edge=False)
    for col in ("theme", "label", "size", "majority class", "share"):
        table.add_column(col)
    for t in result["themes"]:
        table.add_row(str(t["theme"]), t["label"], str(t["size"]), t["majority_class"], f"{t['majority_share']:.0%}")
    out.print(table)


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
        results = ev.evaluate_configs(lib, data, ev.configs_for(lib, compare=compare, mode=mode, rerank=rerank,
                                                               rerank_top=rerank_top))
        if run_file is not None:
            pick = ev.default_result(results)
            ev.write_trec_run(pick.run, run_file, tag=pick.name.replace(" ", "_"))
            err.print(f"run ({pick.name}) written to {run_file}")
    finally:
        if tmp is not None:
            tmp.cleanup()
    if fmt == "json":
        payload = ev.results_payload(data, lib.model_name, results)
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
