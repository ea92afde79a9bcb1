"""``zsearch models`` (embedding profiles), ``models prepare`` (the ONNX file ahead of time) and ``zsearch reembed``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import typer

from zsearch.cli import DB_OPTION_HELP, app, check_format, err, plain, write_records

MODEL_COLUMNS = ["name", "model_id", "license", "dims", "context", "size", "available", "description"]


def model_rows() -> list[dict[str, Any]]:
    """One row per profile: license, dims, context, and whether the weights are on this machine."""
    from zsearch.embedding.profiles import PROFILES
    from zsearch.embedding.weights import model_location

    rows = []
    for p in PROFILES.values():
        where = model_location(p)
        if p.name == "minilm":
            available = "bundled"
        else:
            available = f"cached: {where}" if where else "not downloaded"
        dims = ", ".join(str(d) for d in p.dims)
        if p.min_dim:
            dims += f" (any {p.min_dim}-{p.dims[0]})"
        rows.append(
            {
                "name": p.name,
                "model_id": p.model_id,
                "license": p.license,
                "dims": dims,
                "context": p.max_tokens,
                "size": p.size,
                "available": available,
                "local": bool(where),
                "description": p.description,
            }
        )
    return rows


models_app = typer.Typer(
    help="List the embedding model profiles; `models prepare` exports a model for the ONNX engine.",
    invoke_without_command=True,
)
app.add_typer(models_app, name="models")


@models_app.callback()
def models(
    ctx: typer.Context,
    fmt: str = typer.Option("table", "--format", help="Output format: table, json, jsonl or csv."),
) -> None:
    """List the embedding model profiles: license, dimensions, context, local availability.

    Any other sentence-transformers model works too: pass its hub name or a local directory
    to --model. Nothing is downloaded by this command. `zsearch models prepare` exports the
    ONNX file the default engine runs, ahead of the first search.
    """
    if ctx.invoked_subcommand is not None:
        return
    check_format(fmt)
    rows = model_rows()
    if fmt != "table":
        write_records(rows, fmt, columns=[*MODEL_COLUMNS, "local"])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for col in ("name", "license", "dims", "context", "size", "available"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(*(plain(x) for x in (r["name"], r["license"], r["dims"], f"{r['context']:,}", r["size"],
                                            r["available"])))  # `available` holds a cache path
    Console(file=sys.stdout, highlight=False).print(table)
    err.print(
        "zembed-1 is CC-BY-NC-4.0 (non-commercial). Other models: --model ORG/NAME or --model PATH. "
        "Weights are read from the Hugging Face cache ($HF_HOME)."
    )


@models_app.command("prepare")
def prepare(
    model: str = typer.Option("minilm", "--model", help="Profile, hub name or local path of a BERT-like model."),
    engine: str = typer.Option("onnx", "--engine", help="onnx (fp32) or onnx-int8 (the quantised variant)."),
    fmt: str = typer.Option("table", "--format", help="table (a line on stdout) or json."),
) -> None:
    """Export (or check) the ONNX file a model runs with under --engine onnx, and print where it is.

    The file is exported once into the user cache ($ZSEARCH_CACHE_DIR, else the platform's
    cache dir), in a folder named by the hash of the model's weights; a corrupt file is
    exported again. Without it, the first search or ingest on the CPU exports it. With
    --engine onnx it also makes the int8 graph an ingest's sentence pass runs on
    (ZSEARCH_SENTENCE_ENGINE=same: the fp32 graph runs them too).

    Example: zsearch models prepare --engine onnx-int8
    """
    import json
    import time

    from zsearch.embedding.embedder import sentence_engine_for
    from zsearch.embedding.onnx_export import prepared_model, read_spec
    from zsearch.embedding.profiles import resolve_profile
    from zsearch.embedding.weights import locate_or_download
    from zsearch.errors import UsageError

    check_format(fmt, ("table", "json"))
    if engine not in ("onnx", "onnx-int8"):
        raise UsageError(f"--engine {engine}: prepare makes files for onnx or onnx-int8")
    profile = resolve_profile(model)
    src = locate_or_download(profile)
    read_spec(src)  # a model the engine does not run: one clear error before any work
    t0 = time.perf_counter()
    def notify(m: str) -> None:
        err.print(plain(m), soft_wrap=True)

    path = prepared_model(src, int8=engine == "onnx-int8", verify="full", notify=notify)
    info = {"model": profile.model_id, "engine": engine, "path": str(path), "bytes": path.stat().st_size}
    if sentence_engine_for(engine) != engine:  # the graph an ingest's sentence pass runs on
        info["sentence_path"] = str(prepared_model(src, int8=True, verify="full", notify=notify))
    info["seconds"] = round(time.perf_counter() - t0, 2)
    if fmt == "json":
        sys.stdout.write(json.dumps(info, indent=2) + "\n")
        return
    sys.stdout.write(f"{path}\n")
    also = f", and the int8 graph its sentence pass runs on ({info['sentence_path']})" if "sentence_path" in info else ""
    err.print(plain(f"{profile.model_id} ({engine}, {info['bytes'] / 1e6:.1f} MB) is ready{also}; "
                    f"checked in {info['seconds']:.1f}s"), soft_wrap=True)


@app.command("reembed")
def reembed_cmd(
    model: Optional[str] = typer.Option(None, "--model", help="Profile (see `zsearch models`), hub name or local path."),
    sentences: bool = typer.Option(
        False, "--sentences", help="Only add the sentence vectors papers lack (a database made before the "
        "sentence stage), in place, with the database's own model."),
    dim: Optional[int] = typer.Option(None, "--dim", help="Reduced output dimension the model offers."),
    max_tokens: Optional[int] = typer.Option(
        None, "--max-tokens", help="Context to use per paper (default: the model's, e.g. 32768 for zembed-1)."
    ),
    device: Optional[str] = typer.Option(None, "--device", help="cpu, cuda, cuda:1 or a list (default: every GPU, else CPU)."),
    keep_old: bool = typer.Option(False, "--keep-old", help="Keep the old vectors as papers__old/chunks__old."),
    trust_remote_code: bool = typer.Option(
        False, "--trust-remote-code", help="Allow a model that ships its own Python code (zembed-1's profile allows it)."
    ),
    db: Optional[Path] = typer.Option(None, "--db", help=DB_OPTION_HELP),
    fmt: str = typer.Option("table", "--format", help="Summary format: table (stderr) or json (stdout)."),
) -> None:
    """Re-embed the whole database with another model into a new vector set.

    Searches keep using the old vectors until every paper is embedded; then the new set is
    switched in. An interrupted run resumes where it stopped.

    With --sentences: add only the missing sentence vectors (docs/search.md, "Sentence
    stage"), keeping every paper's vectors. Example: zsearch reembed --sentences --db ~/lit
    """
    import json

    from zsearch.cli.core import progress_bar
    from zsearch.errors import UsageError
    from zsearch.library import Library

    check_format(fmt, ("table", "json"))
    if sentences:
        add_sentences(db, device, fmt)
        return
    if not model:
        raise UsageError("give --model (the model to re-embed with), or --sentences")
    lib = Library.open(db, device=device)
    total = lib.count() or None
    with progress_bar(f"reembed {model}", total) as advance:
        report = lib.reembed(model, dim=dim, max_tokens=max_tokens, keep_old=keep_old,
                             trust_remote_code=trust_remote_code or None, progress=advance)
    if fmt == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
        return
    rate = report.tokens / report.seconds if report.seconds else 0.0
    err.print(plain(  # model ids are the user's --model (a path, a hub name)
        f"re-embedded {report.embedded} of {report.papers} papers with {report.model_id} ({report.dim} dims; "
        f"was {report.old_model_id}, {report.old_dim}) in {report.seconds:.1f}s, {rate:,.0f} tokens/s"
        + (f"; old vectors kept as {report.kept_old}" if report.kept_old else "")
    ))


def add_sentences(db: Optional[Path], device: Optional[str], fmt: str) -> None:
    """``reembed --sentences``: fill in missing sentence vectors under the writer lock."""
    import json
    import time

    from zsearch.cli.core import progress_bar
    from zsearch.library import Library

    lib = Library.open(db, device=device)
    have, total = lib.sentence_coverage()
    t0 = time.perf_counter()
    with lib.lock(purpose="reembed --sentences"), progress_bar("sentence vectors", total - have) as advance:
        n = lib.add_sentence_vectors(progress=advance)
    secs = time.perf_counter() - t0
    have, total = lib.sentence_coverage()
    summary = {"added": n, "papers_with_sentences": have, "papers": total, "seconds": round(secs, 1),
               "model": lib.embedder.model_id}
    if fmt == "json":
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return
    if not lib.embedder.sentence_vectors:
        err.print(plain(f"{lib.embedder.model_id} makes no sentence vectors (a long-context model): nothing to do"))
        return
    err.print(plain(f"added sentence vectors to {n} papers in {secs:.1f}s; {have} of {total} papers have them"))
