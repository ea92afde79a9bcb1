"""A cluster result for people: a Markdown report and a 2-D map of the papers.

The map projects the vectors KMeans clustered (same preparation) to two dimensions with
UMAP when ``umap-learn`` is installed, else t-SNE (PCA for very large sets), colours each paper by theme and writes
each theme's label at its centre. matplotlib runs on the Agg backend through the object
API (no pyplot state), so it works on servers and in cron jobs.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from zsearch.papers.model import Paper
from zsearch.review.cluster import Clustering, prepare_vectors
from zsearch.review.searchlog import LogSource, table_versions
from zsearch.review.select import ClusterRun

# Colour-blind-safe qualitative palette (Okabe & Ito 2008), reordered so the pale yellow,
# hard to see on white, comes last; tab20 beyond 8 themes.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000", "#F0E442"]
# Above this many papers t-SNE gets slow (minutes on a laptop CPU); PCA draws the map instead.
TSNE_MAX = 5000


def project_2d(x: np.ndarray, *, seed: int) -> tuple[np.ndarray, str]:
    """2-D coordinates of the rows of ``x`` and the method's name.

    UMAP when ``umap-learn`` is installed; else t-SNE (scikit-learn, PCA-initialised, so
    it is deterministic for a seed) up to :data:`TSNE_MAX` papers; else PCA. PCA alone
    draws themes on top of one another: 2 of 384 dimensions keep little of the structure
    KMeans found, while t-SNE/UMAP keep neighbours together.
    """
    n = x.shape[0]
    if n >= 10:  # fewer points have no neighbourhoods to keep; PCA serves them
        try:
            import umap  # type: ignore[import-not-found]

            nn = min(15, n - 1)  # 15: UMAP's default n_neighbors
            return umap.UMAP(n_neighbors=nn, random_state=seed, metric="cosine").fit_transform(x), "UMAP"
        except ImportError:
            pass
        if n <= TSNE_MAX:
            from sklearn.manifold import TSNE

            perplexity = min(30.0, (n - 1) / 3)  # 30: scikit-learn's default; must stay below n
            y = TSNE(n_components=2, perplexity=perplexity, init="pca", metric="cosine",
                     random_state=seed).fit_transform(x)
            return y, "t-SNE"
    if n < 2:
        return np.zeros((n, 2)), "PCA"
    from sklearn.decomposition import PCA

    comps = min(2, n, x.shape[1])
    y = PCA(n_components=comps, random_state=seed).fit_transform(x)
    if comps < 2:
        y = np.hstack([y, np.zeros((n, 2 - comps))])
    return y, "PCA"


def theme_colours(k: int) -> list[str]:
    if k <= len(OKABE_ITO):
        return OKABE_ITO[:k]
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    return [cmap(i % 20) for i in range(k)]


def plot_clusters(
    path: str | os.PathLike[str],
    clustering: Clustering,
    ids: Sequence[str],
    vectors: np.ndarray,
    *,
    title: str = "",
) -> Path:
    """Write a PNG map of the papers coloured by theme, each theme labelled at its centre."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    order = sorted(range(len(ids)), key=lambda i: ids[i])  # the order cluster_papers used
    sid = [ids[i] for i in order]
    # the papers' own (centred) vectors, not the smoothed ones KMeans saw: smoothing pulls each
    # theme into a tight clump, so a map of it would draw every theme as one dot
    x = prepare_vectors(np.asarray(vectors)[order], "centered", seed=clustering.seed)
    xy, how = project_2d(x, seed=clustering.seed)
    theme_of = np.array([clustering.assignment[i] for i in sid])
    colours = theme_colours(clustering.k)

    fig = Figure(figsize=(11, 7.5), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for t in clustering.themes:
        m = theme_of == t.theme
        ax.scatter(xy[m, 0], xy[m, 1], s=60 if len(sid) <= 200 else 18, color=colours[t.theme - 1], alpha=0.85,
                   edgecolors="white", linewidths=0.6,
                   label=f"{t.theme}. {t.label} ({t.size})", zorder=2)
    for t in clustering.themes:
        m = theme_of == t.theme
        cx, cy = np.median(xy[m, 0]), np.median(xy[m, 1])  # median: not pulled off by outliers
        ax.annotate(
            "\n".join(textwrap.wrap(f"{t.theme}. {t.label}", 34)), (cx, cy),
            ha="center", va="center", fontsize=9, fontweight="bold", zorder=4,
            bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": colours[t.theme - 1], "lw": 1.5, "alpha": 0.9},
        )
    ax.margins(0.12)  # room for the label boxes of themes at the edge
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(f"{how} 1")
    ax.set_ylabel(f"{how} 2")
    head = f"{title}\n" if title else ""
    ax.set_title(f"{head}{len(sid)} papers in {clustering.k} themes ({how} map of the embeddings: "
                 "near = similar)",
                 fontsize=11, loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9,
              title="themes (papers)", title_fontsize=9, alignment="left")
    fig.tight_layout()
    out = Path(path).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", metadata={"Software": "zsearch"})
    return out


def markdown_report(
    question: str | None,
    clustering: Clustering,
    papers: Mapping[str, Paper],
    *,
    date: str,
    database: str | None = None,
    model: str | None = None,
    filters: Mapping[str, Any] | None = None,
    table_version: Any = None,
    extra: Mapping[str, Any] | None = None,
    plot: str | None = None,
) -> str:
    """The Markdown report: what was asked of which database, then each theme and its papers."""
    lines = [f"# Themes: {question}" if question else "# Themes", ""]
    facts = [
        ("Question", question or "(a given set of papers)"),
        ("Date", date),
        ("Database", database),
        ("Table version", table_version if table_version is not None else None),
        ("Model", model),
        ("Filters", ", ".join(f"{k}={v}" for k, v in (filters or {}).items()) or "none"),
        ("Papers", len(clustering.assignment)),
        ("Themes", clustering.k_reason),
        ("Clustering", (f"KMeans, {clustering.n_init} k-means++ starts, seed {clustering.seed}, "
                        f"vectors prepared: {clustering.method}")),
    ]
    facts += list((extra or {}).items())
    for name, value in facts:
        if value is not None and value != "":
            lines.append(f"- **{name}:** {_md(value)}")
    lines.append("")
    if plot:
        lines += [f"![map of the themes]({plot})", ""]
    lines += ["| theme | label | papers | distinctive terms |", "| ---: | --- | ---: | --- |"]
    for t in clustering.themes:
        lines.append(f"| {t.theme} | {_md(t.label)} | {t.size} | {_md(', '.join(t.terms))} |")
    lines.append("")
    for t in clustering.themes:
        lines += [f"## {t.theme}. {t.label} ({t.size} papers)", "",
                  f"Distinctive terms: {', '.join(t.terms) or '(none)'}", "",
                  "Papers, nearest the theme's centre first:", ""]
        for pid, d in zip(t.ids, t.distances):
            p = papers.get(pid)
            title = p.title if p and p.title else "(untitled)"
            year = f" ({p.year})" if p and p.year else ""
            lines.append(f"1. {_md(title)}{year} — `{pid}` · distance {d:.3f}")
        lines.append("")
    return "\n".join(lines)


def write_cluster_outputs(
    lib: LogSource,
    run: ClusterRun,
    *,
    report: Path | None = None,
    plot: Path | None = None,
    date: str | None = None,
    written: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Write a cluster run's PNG map to ``plot`` and its Markdown report to ``report`` (each if given).

    The report names the database, its table version and model, and links the map by a
    path relative to the report. ``written`` is called with each file once it is written;
    returns the files written. ``date``: ISO 8601 UTC, default now.
    """
    done: list[Path] = []

    def wrote(path: Path) -> None:
        done.append(path)
        if written:
            written(path)

    date = date or datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if plot:
        wrote(plot_clusters(plot, run.clustering, run.plot_ids or run.ids, run.vectors, title=run.question or ""))
    if report:
        info = lib.model_info()
        rel_plot = os.path.relpath(plot.resolve(), report.resolve().parent) if plot else None
        text = markdown_report(
            run.question, run.clustering, run.papers, date=date, database=str(lib.home),
            model=info[0] if info else None, filters=run.filters, table_version=table_versions(lib).get("papers"),
            plot=rel_plot, extra={"Selection": run.selection_note},
        )
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(text, encoding="utf-8")
        wrote(report)
    return done


def _md(s: Any) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")
