"""``zsearch serve``: run the search service of a database; ``serve stop``, ``serve status``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from zsearch.cli import DB_OPTION_HELP, app, err

serve_app = typer.Typer(invoke_without_command=True)  # its help: the callback's docstring
app.add_typer(serve_app, name="serve")


@serve_app.callback()
def serve(
    ctx: typer.Context,
    db: Optional[Path] = typer.Option(None, "--db", help=DB_OPTION_HELP),
    port: Optional[int] = typer.Option(None, "--port", help="Also listen on 127.0.0.1:PORT (0: any free port), "
                                       "with a bearer token (serve.token in the database directory)."),
    host: Optional[str] = typer.Option(None, "--host", help="With --port: listen on this address instead of "
                                       "127.0.0.1 (anyone who can reach it and has the token can search)."),
    background: bool = typer.Option(False, "--background", help="Detach; return once the service answers."),
    idle: Optional[str] = typer.Option(None, "--idle", help="Exit after this long without requests: 90s, 30m, 2h."),
) -> None:
    """Hold the model and tables open and answer searches over HTTP (docs/serve.md); the CLI uses it when up.

    Listens on a Unix socket in the database directory (mode 0600); `zsearch search|show|stats|cluster` send their request there when the service is up. One service per database; it never takes the writer lock, and sees what ingests commit within about a second.

    Exit codes: 0 stopped (stop, SIGTERM, --idle), 3 no database, 75 a service already runs.
    """
    if ctx.invoked_subcommand is not None:
        return
    from zsearch.serve import lifecycle

    if port is not None and not 0 <= port <= 65535:
        from zsearch.errors import UsageError

        raise UsageError(f"--port takes 0..65535, not {port}")
    idle_s = lifecycle.parse_duration(idle) if idle is not None else None
    if background:
        args = [*(["--port", str(port)] if port is not None else []), *(["--host", host] if host else []),
                *(["--idle", idle] if idle else [])]
        svc = lifecycle.start_background(db, args)
        err.print(f"zsearch service for {svc.home} running (pid {svc.pid}) on {svc.socket}"
                  + (f" and {svc.url}" if svc.url else ""), soft_wrap=True)
        return

    def announce(where: Any) -> None:
        msg = f"zsearch service for {where.home} (pid {os.getpid()}) listening on {where.socket}"
        if where.port is not None:
            page = where.page if err.is_terminal else f"http://{where.host}:{where.port}/ (token in {where.home}/serve.token)"
            msg += f"\n  web page and API: {page}"
            if not lifecycle.is_loopback(where.host):
                msg += f"\n  [yellow]warning:[/] {where.host} is not a loopback address: anyone who reaches it and has the token can search"
        err.print(msg, soft_wrap=True)

    lifecycle.run(db, port=port, host=host, idle=idle_s, announce=announce)


@serve_app.command("stop")
def stop(db: Optional[Path] = typer.Option(None, "--db", help=DB_OPTION_HELP)) -> None:
    """Stop the database's service (exit code 3 if none runs)."""
    from zsearch.serve import lifecycle

    pid = lifecycle.stop(db)
    err.print(f"stopped the zsearch service (pid {pid})")


@serve_app.command("status")
def status(db: Optional[Path] = typer.Option(None, "--db", help=DB_OPTION_HELP)) -> None:
    """Where the service listens, as JSON (with --port: the web page's address and token); exit 3 if none runs."""
    from zsearch.serve import lifecycle

    sys.stdout.write(json.dumps(lifecycle.status(db), indent=2) + "\n")


# -- the CLI as the service's client (called by search, show, stats, cluster) --------------------------
def via_service(db: Optional[Path], method: str, path: str, body: Any = None, *, no_service: bool = False) -> Any:
    """The service's reply (a zsearch.serve.client.Reply) to one request; None: no service, run in-process.

    None too with ``--no-service`` or ``$ZSEARCH_NO_SERVICE``. An error reply raises the
    ZsearchError the in-process path raises (same message, same exit code).
    """
    from zsearch.serve.client import call

    reply = call(db, method, path, body, no_service=no_service)
    return None if reply is None else reply.raise_for_error()


def search_body(query: str, *, db: Optional[Path], k: int, mode: str, rerank: Optional[str], rerank_top: int,
                year: Optional[str], source: Optional[list[str]], category: Optional[list[str]],
                author: Optional[list[str]], since: Optional[str]) -> dict[str, Any] | None:
    """`zsearch search`'s options as a /api/search body; None when the service cannot take them (k > MAX_K).

    The reranker is resolved here, from this process's settings (--rerank, else ZSEARCH_RERANK or
    config.toml), and sent as "none" when there is none, so the service's own settings never decide.
    """
    from zsearch.config import Settings
    from zsearch.serve.client import MAX_K

    if k > MAX_K or rerank_top > MAX_K:
        return None
    if rerank is None:
        rerank = Settings.load(db).rerank or "none"
    return {"query": query, "k": k, "mode": mode, "rerank": rerank, "rerank_top": rerank_top, "year": year,
            "source": source, "category": category, "author": author, "since": since}


def logging_asked(log: Optional[Path], review: Optional[Path]) -> bool:
    """Whether a run is to be logged (--log, --review or $ZSEARCH_REVIEW_DIR): such runs stay in-process."""
    return bool(log or review or os.environ.get("ZSEARCH_REVIEW_DIR"))
