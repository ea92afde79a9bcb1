"""Systematic-review commands: ``cluster``, ``export``, ``log`` and ``eval clusters``.

``eval_app`` (the ``zsearch eval`` group) lives here; other evaluation commands register
on it with ``from zsearch.cli.review import eval_app``.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from zsearch.cli import DB_OPTION_HELP, app, check_format, err, write_records
from zsearch.errors import UsageError

if TYPE_CHECKING:
    from zsearch.review.cluster import Clustering
    from zsearch.library import Library
    from zsearch.papers.model import Paper

eval_app = typer.Typer(help="Evaluate retrieval and clustering against labelled data.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")

# `--top`: 50 papers is what a reviewer can skim per theme map and what the issue asks for.
DEFAULT_TOP = 50
# = zsearch.review.cluster.DEFAULT_SEED (not imported here: that module pulls numpy).
DEFAULT_SEED = 42
LOG_HELP = "Append a record of this run to this JSON Lines file (see `zsearch log`)."
REVIEW_HELP = "Review directory: the run is logged to DIR/search-log.jsonl (default: $ZSEARCH_REVIEW_DIR)."


def _open(db: Path | None) -> Library:
    from zsearch.library import Library

    return Library.open(db, create=False)


def _read_ids(source: str) -> list[str]:
    from zsearch.review.export import read_id_list

    if source == "-":
        return read_id_list(sys.stdin.read())
    p = Path(source).expanduser()
    if not p.exists():
        from zsearch.errors import NotFound

        raise NotFound(f"no id file at {p}")
    return read_id_list(p.read_text(encoding="utf-8"))


def _parse_k(k: str) -> int | str:
    if k == "auto":
        return k
    try:
        return int(k)
    except ValueError:
        raise UsageError(f"--k takes a number or 'auto', not {k!r}") from None


def _filters(where: str | None) -> dict[str, Any]:
    return {"where": where} if where else {}


def _search_kwargs(where: str | None) -> dict[str, Any]:
    return {"where": where} if where else {}


def select_papers(
    lib: Library,
    *,
    query: str | None,
    top: int,
    ids_file: str | None,
    all_papers: bool,
    where: str | None,
) -> tuple[list[str], str]:
    """The ids to work on, from exactly one of: a query, an id list, or the whole database."""
    chosen = [name for name, on in (("a query", bool(query)), ("--ids", bool(ids_file)), ("--all", all_papers)) if on]
    if len(chosen) != 1:
        raise UsageError(
            "give exactly one of: a query, --ids FILE or --all"
            + (f" (got {', '.join(chosen)})" if chosen else "")
        )
    if query:
        hits = lib.search(query, k=top, **_search_kwargs(where))
        return [h.id for h in hits], "search"
    if ids_file:
        ids = _read_ids(ids_file)
        if not ids:
            raise UsageError(f"no paper ids in {ids_file}")
        return ids, "ids"
    if where:
        return lib.ids(where), "all"
    return [p.id for p in lib.papers()], "all"


# -- cluster ----------------------------------------------------------------------------


def cluster_records(c: Clustering, papers: dict[str, Paper]) -> list[dict[str, Any]]:
    """One flat record per paper: theme, label, rank within the theme, distance, metadata."""
    rows = []
    for t in c.themes:
        for r, (pid, d) in enumerate(zip(t.ids, t.distances), 1):
            p = papers[pid]
            rows.append({"theme": t.theme, "label": t.label, "rank": r, "distance": d, "id": pid,
                         "year": p.year, "title": p.title, "doi": p.doi, "url": p.url})
    return rows


def cluster_json(c: Clustering, papers: dict[str, Paper], question: str | None) -> dict[str, Any]:
    d = c.to_dict()
    d = {"question": question, **d}
    for t in d["themes"]:
        t["papers"] = [{"id": pid, "title": papers[pid].title, "year": papers[pid].year, "distance": dist}
                       for pid, dist in zip(t["ids"], t["distances"])]
    return d


def render_themes(c: Clustering, papers: dict[str, Paper], per_theme: int | None = None) -> None:
    from rich.table import Table

    from zsearch.cli import out

    out.print(f"[bold]{c.k} themes[/] — {c.k_reason}", soft_wrap=True)
    for t in c.themes:
        table = Table(title=f"{t.theme}. {t.label}  ({t.size} papers)", title_justify="left",
                      title_style="bold", pad_edge=False, caption=f"terms: {', '.join(t.terms[:8])}",
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
            table.add_row(str(r), f"{d:.3f}", str(p.year or ""), p.title or "(untitled)", pid)
        out.print(table)


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
    method: str | None = typer.Option(None, "--method", help="Vector preparation: centered (default), plain, pca-whiten, hybrid."),
    log: Path | None = typer.Option(None, "--log", help=LOG_HELP),
    review: Path | None = typer.Option(None, "--review", help=REVIEW_HELP),
) -> None:
    """Cluster search results (or --ids, or --all) into labelled themes with KMeans.

    Each theme is labelled by its most distinctive terms (class-based TF-IDF over titles and abstracts) and lists its papers nearest the centre first. Same papers and seed, same themes, byte for byte.

    Example: zsearch cluster "long covid fatigue" --top 50 --k auto --report r.md --plot p.png
    """
    check_format(fmt)
    from zsearch.review.cluster import DEFAULT_METHOD, cluster_papers
    from zsearch.review.searchlog import log_run, table_versions

    kk = _parse_k(k)
    lib = _open(db)
    chosen, how = select_papers(lib, query=question, top=top, ids_file=ids, all_papers=all_papers, where=where)
    if not chosen:
        raise UsageError("no papers to cluster" + (" pass the filter" if where else ""))
    papers_list = lib.papers(chosen)
    papers = {p.id: p for p in papers_list}
    vectors = lib.vectors(chosen)
    texts = [papers[i].head_text for i in chosen]
    c = cluster_papers(chosen, vectors, texts, k=kk, seed=seed, method=method or DEFAULT_METHOD)

    if fmt == "table":
        render_themes(c, papers)
    elif fmt == "json":
        sys.stdout.write(json.dumps(cluster_json(c, papers, question), ensure_ascii=False, indent=2) + "\n")
    else:
        write_records(cluster_records(c, papers), fmt,
                      columns=["theme", "label", "rank", "distance", "id", "year", "title", "doi", "url"])

    date = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    info = lib.model_info()
    versions = table_versions(lib)
    if plot:
        from zsearch.review.report import plot_clusters

        path = plot_clusters(plot, c, chosen, vectors, texts, title=question or "")
        err.print(f"wrote {path}")
    if report:
        from zsearch.review.report import markdown_report

        rel_plot = None
        if plot:
            import os

            rel_plot = os.path.relpath(plot.resolve(), report.resolve().parent)
        text = markdown_report(
            question, c, papers, date=date, database=str(lib.home), model=info[0] if info else None,
            filters=_filters(where), table_version=versions.get("papers"), plot=rel_plot,
            extra={"Selection": {"search": f"top {top} search results", "ids": f"ids from {ids}",
                                 "all": "all papers"}[how]},
        )
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(text, encoding="utf-8")
        err.print(f"wrote {report}")
    log_run("cluster", query=question, lib=lib, ids=chosen, filters=_filters(where),
            params={"top": top, "k": k, "k_chosen": c.k, "seed": seed, "method": c.method, "selection": how,
                    "themes": {pid: t for pid, t in c.assignment.items()}},
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
    from zsearch.review.export import EXPORT_FORMATS, export_papers, themes_from_cluster_json

    check_format(fmt, EXPORT_FORMATS)
    lib = _open(db)
    themes: dict[str, tuple[int, str]] = {}
    if cluster_json_file:
        if query or ids or all_papers:
            raise UsageError("give exactly one of: --query, --ids, --cluster-json or --all")
        try:
            obj = json.loads(cluster_json_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            from zsearch.errors import NotFound

            raise NotFound(f"no file at {cluster_json_file}") from None
        except json.JSONDecodeError as exc:
            raise UsageError(f"{cluster_json_file}: not JSON ({exc.msg})") from None
        chosen, themes = themes_from_cluster_json(obj)
    else:
        chosen, _ = select_papers(lib, query=query, top=k, ids_file=ids, all_papers=all_papers, where=where)
    text = export_papers(lib.papers(chosen), fmt, themes)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {len(chosen)} papers to {output}")
    else:
        sys.stdout.write(text)
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
        prisma_markdown,
        prisma_summary,
        read_log,
        rerun_search,
    )

    path = file or default_log_path(review)
    records = read_log(path)
    if rerun is not None:
        if not 1 <= rerun <= len(records):
            raise UsageError(f"--rerun takes 1..{len(records)} (the log has {len(records)} records)")
        rec = records[rerun - 1]
        lib = _open(db or (Path(rec["database"]) if rec.get("database") else None))
        now = rerun_search(lib, rec)
        same = now == list(rec.get("ids") or [])
        result = {"record": rerun, "query": rec.get("query"), "table_version": rec.get("table_version"),
                  "same_ids": same, "logged": rec.get("ids"), "now": now}
        if fmt in ("json", "jsonl"):
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        else:
            err.print(("[green]same ids[/]" if same else "[red]different ids[/]")
                      + f" for logged search {rerun} ({rec.get('query')!r}) at table version {rec.get('table_version')}")
            for i in now:
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


# -- eval clusters ----------------------------------------------------------------------


def read_labelled(path: Path, label: str, text_fields: list[str] | None) -> tuple[list[str], list[str], list[str]]:
    """(texts, labels, fields used) from a JSON Lines or CSV file."""
    import csv

    if not path.exists():
        from zsearch.errors import NotFound

        raise NotFound(f"no file at {path}")
    rows: list[dict[str, Any]] = []
    if path.suffix.lower() in (".csv", ".tsv"):
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t" if path.suffix.lower() == ".tsv" else ","))
    else:
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError:
                        raise UsageError(f"{path}:{n}: not a JSON line") from None
    if not rows:
        raise UsageError(f"{path} holds no records")
    keys = set(rows[0])
    if label not in keys:
        raise UsageError(f"no field {label!r} in {path}; fields: {', '.join(sorted(keys))}")
    if text_fields:
        fields = text_fields
    elif {"title", "abstract", "text"} & keys:
        # title + abstract; BEIR-style records call the abstract "text"
        fields = [f for f in ("title", "abstract") if f in keys]
        if "abstract" not in keys and "text" in keys:
            fields.append("text")
    else:
        raise UsageError(f"which fields hold the text? pass --text-field; fields: {', '.join(sorted(keys))}")
    missing = [f for f in fields if f not in keys]
    if missing:
        raise UsageError(f"no field {missing[0]!r} in {path}; fields: {', '.join(sorted(keys))}")
    texts = ["\n\n".join(str(r.get(f) or "") for f in fields if r.get(f)) for r in rows]
    labels = [str(r.get(label)) for r in rows]
    return texts, labels, fields


def cluster_scores(labels: list[str], predicted: list[int]) -> dict[str, float]:
    """V-measure, ARI and NMI of a clustering against the true labels (scikit-learn)."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, v_measure_score

    return {
        "v_measure": round(float(v_measure_score(labels, predicted)), 6),
        "ari": round(float(adjusted_rand_score(labels, predicted)), 6),
        "nmi": round(float(normalized_mutual_info_score(labels, predicted)), 6),
    }


@eval_app.command("clusters")
def eval_clusters(
    file: Path = typer.Argument(..., help="Labelled records: JSON Lines or CSV."),
    label: str = typer.Option(..., "--label", help="The field holding each record's true class."),
    k: str = typer.Option("auto", "--k", help="Number of clusters, or 'auto' (silhouette)."),
    text_field: list[str] | None = typer.Option(None, "--text-field", help="Field(s) to embed (default: title + abstract, else text)."),
    model: str = typer.Option("minilm", "--model", help="Embedding model (default: the bundled minilm)."),
    method: str | None = typer.Option(None, "--method", help="Vector preparation: centered (default), plain, pca-whiten, hybrid."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="KMeans random seed."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Cluster labelled records with zsearch's clustering; report V-measure, ARI and NMI.

    Example: zsearch eval clusters abstracts.jsonl --label category --k 5 --format json
    """
    check_format(fmt, ("table", "json"))
    from collections import Counter

    from zsearch.review.cluster import DEFAULT_METHOD, cluster_papers
    from zsearch.embedding.embedder import load_embedder

    kk = _parse_k(k)
    texts, labels, fields = read_labelled(file, label, text_field)
    err.print(f"embedding {len(texts)} records ({' + '.join(fields)}) with {model}…")
    vectors = load_embedder(model).encode_documents(texts)
    ids = [f"{i:09d}" for i in range(len(texts))]  # zero-padded: id order is file order
    c = cluster_papers(ids, vectors, texts, k=kk, seed=seed, method=method or DEFAULT_METHOD)
    predicted = [c.assignment[i] for i in ids]
    scores = cluster_scores(labels, predicted)
    themes = []
    for t in c.themes:
        cls, n = Counter(labels[int(i)] for i in t.ids).most_common(1)[0]
        themes.append({"theme": t.theme, "label": t.label, "size": t.size, "majority_class": cls,
                       "majority_share": round(n / t.size, 4), "terms": t.terms})
    result = {**scores, "k": c.k, "n": len(texts), "classes": len(set(labels)), "method": c.method,
              "seed": seed, "model": model, "k_reason": c.k_reason, "themes": themes}
    if fmt == "json":
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        return
    from rich.table import Table

    from zsearch.cli import out

    out.print(f"V-measure {scores['v_measure']:.4f}  ARI {scores['ari']:.4f}  NMI {scores['nmi']:.4f}  "
              f"(k={c.k}, {len(set(labels))} classes, {len(texts)} records, method {c.method})")
    out.print(c.k_reason, soft_wrap=True)
    table = Table(pad_edge=False)
    for col in ("theme", "label", "size", "majority class", "share"):
        table.add_column(col)
    for t in themes:
        table.add_row(str(t["theme"]), t["label"], str(t["size"]), t["majority_class"], f"{t['majority_share']:.0%}")
    out.print(table)
