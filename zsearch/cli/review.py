"""Systematic-review commands: ``cluster``, ``export`` and ``log``: parse, call zsearch.review, render."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from zsearch.cli import DB_OPTION_HELP, app, check_format, err, write_records
from zsearch.cli.serve import logging_asked, via_service
from zsearch.errors import UsageError

if TYPE_CHECKING:
    from zsearch.library import Library
    from zsearch.papers.model import Paper
    from zsearch.review.cluster import Clustering

# `--top`: 50 papers is what a reviewer can skim per theme map and what the issue asks for.
DEFAULT_TOP = 50
# = zsearch.review.cluster.DEFAULT_SEED (not imported here: that module pulls numpy).
DEFAULT_SEED = 42
LOG_HELP = "Append a record of this run to this JSON Lines file (see `zsearch log`)."
REVIEW_HELP = "Review directory: the run is logged to DIR/search-log.jsonl (default: $ZSEARCH_REVIEW_DIR)."


def _open(db: Path | None) -> Library:
    from zsearch.library import Library

    return Library.open(db, create=False)


def parse_k(k: str) -> int | str:
    """``--k``: a number of themes, or ``auto``."""
    if k == "auto":
        return k
    try:
        return int(k)
    except ValueError:
        raise UsageError(f"--k takes a number or 'auto', not {k!r}") from None


# -- cluster ----------------------------------------------------------------------------


def render_themes(c: Clustering, papers: dict[str, Paper], per_theme: int | None = None) -> None:
    from rich.table import Table

    from zsearch.cli import line, out, plain

    out.print(line((f"{c.k} themes", "bold"), f" — {c.k_reason}"), soft_wrap=True)
    for t in c.themes:  # labels and titles are the papers' words: printed as text, never as markup
        table = Table(title=plain(f"{t.theme}. {t.label}  ({t.size} papers)", "bold"), title_justify="left",
                      title_style="bold", pad_edge=False, caption=plain(f"terms: {', '.join(t.terms[:8])}"),
                      caption_justify="left")
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("dist", justify="right", no_wrap=True)
        table.add_column("year", justify="right", no_wrap=True)
        table.add_column("title", overflow="fold", ratio=3, min_width=20)
        # sha256: ids are 71 characters; fold them rather than squeeze the titles out
        table.add_column("id", style="cyan", overflow="fold", ratio=1, min_width=14)
        shown = t.ids if per_theme is None else t.ids[:per_theme]
        for r, (pid, d) in enumerate(zip(shown, t.distances), 1):
            p = papers[pid]
            table.add_row(str(r), f"{d:.3f}", str(p.year or ""), plain(p.title or "(untitled)"), plain(pid))
        out.print(table)


class _PaperRows(list):  # type: ignore[type-arg]
    """A theme's ``papers`` for the JSON encoder, made one at a time as it writes them.

    A list to ``json`` (so the bytes are exactly those of a real list) that holds nothing:
    ``cluster --all`` on a large database never holds every paper's row at once.
    """

    def __init__(self, ids: list[str], distances: list[float], papers: dict[str, Paper]) -> None:
        super().__init__()
        self._ids, self._distances, self._papers = ids, distances, papers

    def __iter__(self):  # type: ignore[no-untyped-def]
        for pid, dist in zip(self._ids, self._distances):
            p = self._papers[pid]
            yield {"id": pid, "title": p.title, "year": p.year, "distance": dist}

    def __len__(self) -> int:
        return len(self._ids)

    def __bool__(self) -> bool:
        return bool(self._ids)


def write_cluster_json(c: Clustering, papers: dict[str, Paper], question: str | None, stream) -> None:  # type: ignore[no-untyped-def]
    """``--format json``: the bytes of ``json.dumps(cluster_json(...), ensure_ascii=False, indent=2)``, written as encoded.

    (With ``indent`` the json module always uses its Python encoder, which takes the lazy lists.)
    """
    d = {"question": question, **c.to_dict()}
    for t in d["themes"]:
        t["papers"] = _PaperRows(t["ids"], t["distances"], papers)
    for chunk in json.JSONEncoder(ensure_ascii=False, indent=2).iterencode(d):
        stream.write(chunk)
    stream.write("\n")


@app.command()
def cluster(
    question: str | None = typer.Argument(None, help="Research question; its top results are clustered."),
    top: int = typer.Option(DEFAULT_TOP, "--top", help="How many search results to cluster."),
    k: str = typer.Option("auto", "--k", help="Number of themes, or 'auto' (best silhouette for k=2..10)."),
    ids: str | None = typer.Option(None, "--ids", help="Cluster these paper ids instead (file, one per line; '-' = stdin)."),
    all_papers: bool = typer.Option(False, "--all", help="Cluster every paper in the database (or every one --where passes)."),
    where: str | None = typer.Option(None, "--where", help="Filter (SQL over paper columns, e.g. \"year >= 2020\")."),
    db: Path | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
    fmt: str = typer.Option("table", "--format", help="table (for people), json, jsonl or csv (stdout)."),
    report: Path | None = typer.Option(None, "--report", help="Also write a Markdown report here."),
    plot: Path | None = typer.Option(None, "--plot", help="Also write a PNG map of the themes here."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="KMeans random seed: same seed and papers, same themes."),
    method: str | None = typer.Option(None, "--method", help="Vector preparation: smoothed (default), smoothed-dense, centered, plain, pca-whiten, hybrid."),
    other: bool = typer.Option(False, "--other", help="Put papers whose nearest neighbours mostly lie in other themes into an 'other' group (theme 0)."),
    log: Path | None = typer.Option(None, "--log", help=LOG_HELP),
    review: Path | None = typer.Option(None, "--review", help=REVIEW_HELP),
    no_service: bool = typer.Option(False, "--no-service", help="Run in this process even when a zsearch service is up for the database."),
) -> None:
    """Cluster search results (or --ids, or --all) into labelled themes with KMeans.

    Each theme is labelled by its most distinctive terms (class-based TF-IDF over titles and abstracts) and lists its papers nearest the centre first. Same papers and seed, same themes, byte for byte.

    Example: zsearch cluster "long covid fatigue" --top 50 --k auto --report r.md --plot p.png
    """
    check_format(fmt)
    kk = parse_k(k)
    if ids is None and report is None and plot is None and fmt in ("json", "table") and not logging_asked(log, review):
        from zsearch.serve.client import MAX_K

        body = {"question": question, "top": top, "k": kk, "all": all_papers, "where": where, "seed": seed,
                "method": method, "other": other}
        reply = via_service(db, "POST", "/api/cluster", body, no_service=no_service) if top <= MAX_K else None
        if reply is not None:
            if fmt == "json":
                sys.stdout.write(reply.text)
                return
            from types import SimpleNamespace

            d = reply.json()
            themes = [SimpleNamespace(**{f: v for f, v in t.items() if f != "papers"}) for t in d["themes"]]
            papers = {p["id"]: SimpleNamespace(**p) for t in d["themes"] for p in t["papers"]}
            render_themes(SimpleNamespace(k=d["k"], k_reason=d["k_reason"], themes=themes), papers)
            return
    from zsearch.review.export import CLUSTER_COLUMNS
    from zsearch.review.report import write_cluster_outputs
    from zsearch.review.searchlog import log_run
    from zsearch.review.select import cluster_selection
    from zsearch.review.selection_files import cluster_records

    lib = _open(db)
    run = cluster_selection(lib, question=question, top=top, ids_file=ids, all_papers=all_papers, where=where,
                            k=kk, seed=seed, method=method, other=other)
    c = run.clustering
    if fmt == "table":
        render_themes(c, run.papers)
    elif fmt == "json":
        write_cluster_json(c, run.papers, question, sys.stdout)
    else:
        write_records(cluster_records(c, run.papers), fmt, columns=list(CLUSTER_COLUMNS))
    write_cluster_outputs(lib, run, report=report, plot=plot, written=lambda path: err.print(f"wrote {path}"))
    log_run("cluster", query=question, lib=lib, ids=run.ids, filters=run.filters, params=run.log_params(k),
            log=log, review_dir=review)


# -- export -----------------------------------------------------------------------------


@app.command()
def export(
    fmt: str = typer.Option(..., "--format", help="bibtex, ris, csv or jsonl."),
    query: str | None = typer.Option(None, "--query", help="Export the results of this search."),
    k: int = typer.Option(50, "-k", "--k", help="With --query: number of results."),
    ids: str | None = typer.Option(None, "--ids", help="Export these paper ids (file, one per line; '-' = stdin)."),
    cluster_json_file: Path | None = typer.Option(None, "--cluster-json", help="Export a `zsearch cluster --format json` result; themes go into keywords."),
    all_papers: bool = typer.Option(False, "--all", help="Export the whole database (or every paper --where passes)."),
    where: str | None = typer.Option(None, "--where", help="Filter (SQL over paper columns)."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write here instead of stdout."),
    db: Path | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Export papers as RIS (Zotero, EndNote, ASReview), BibTeX, CSV or JSON Lines.

    Example: zsearch cluster "sleep apnea" --format json > c.json && zsearch export --format ris --cluster-json c.json -o review.ris
    """
    from zsearch.review.export import EXPORT_FORMATS, write_export, write_export_file
    from zsearch.review.select import export_selection

    check_format(fmt, EXPORT_FORMATS)
    lib = _open(db)
    papers, themes = export_selection(lib, query=query, k=k, ids_file=ids, cluster_json=cluster_json_file,
                                      all_papers=all_papers, where=where)
    if output:
        n = write_export_file(output, papers, fmt, themes)
        err.print(f"wrote {n} papers to {output}")
    else:
        write_export(papers, fmt, sys.stdout, themes)
        sys.stdout.flush()


# -- log --------------------------------------------------------------------------------


@app.command("log")
def log_command(
    file: Path | None = typer.Argument(None, help="The log file (default: the review directory's search-log.jsonl)."),
    prisma: bool = typer.Option(False, "--prisma", help="Summarise as PRISMA-S search reporting and PRISMA flow counts."),
    fmt: str = typer.Option("table", "--format", help="table or markdown (for people), json or jsonl."),
    review: Path | None = typer.Option(None, "--review", help=REVIEW_HELP),
    rerun: int | None = typer.Option(None, "--rerun", help="Re-run logged search number N (1 = first) against its logged table version and compare ids."),
    db: Path | None = typer.Option(None, "--db", help=DB_OPTION_HELP + " For --rerun; default: the logged database."),
) -> None:
    """Show the search log, or summarise it for a review's methods section (--prisma)."""
    check_format(fmt, ("table", "markdown", "json", "jsonl"))
    from zsearch.review.searchlog import (
        default_log_path,
        logged_record,
        prisma_markdown,
        prisma_summary,
        read_log,
        rerun_comparison,
    )

    path = file or default_log_path(review)
    records = read_log(path)
    if rerun is not None:
        rec = logged_record(records, rerun)
        lib = _open(db or (Path(rec["database"]) if rec.get("database") else None))
        result = rerun_comparison(lib, rec, rerun)
        same = result["same_ids"]
        if fmt in ("json", "jsonl"):
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        else:
            err.print(("[green]same ids[/]" if same else "[red]different ids[/]")
                      + f" for logged search {rerun} ({rec.get('query')!r}) at table version {rec.get('table_version')}")
            for i in result["now"]:
                sys.stdout.write(i + "\n")
        raise typer.Exit(0 if same else 1)
    if prisma:
        summary = prisma_summary(records)
        if fmt in ("json", "jsonl"):
            sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2 if fmt == "json" else None) + "\n")
        else:
            sys.stdout.write(prisma_markdown(summary))
        return
    if fmt in ("json", "jsonl"):
        write_records(records, fmt)
        return
    if fmt == "markdown":
        sys.stdout.write(prisma_markdown(prisma_summary(records)))
        return
    from rich.table import Table

    from zsearch.cli import out

    table = Table(pad_edge=False)
    for col, kw in (("#", {"justify": "right"}), ("time", {}), ("command", {}), ("query", {"overflow": "fold", "ratio": 1}),
                    ("version", {"justify": "right"}), ("results", {"justify": "right"})):
        table.add_column(col, **kw)
    for n, r in enumerate(records, 1):
        tv = r.get("table_version")
        tv = tv.get("papers") if isinstance(tv, dict) else tv
        table.add_row(str(n), str(r.get("timestamp", "")), str(r.get("command", "")), str(r.get("query") or ""),
                      "" if tv is None else str(tv), str(r.get("n_results", "")))
    out.print(table)
