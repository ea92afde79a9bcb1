"""The FastAPI app: endpoints, request models, the bearer token, and the one error boundary.

Every Library call runs on one worker thread, in arrival order (:data:`WORKERS`): searches
queue instead of fighting over two cores, so a burst of clients sees a steady latency rather
than a long tail. Health and the static page are answered on the event loop and never wait.
Whatever a request does, the answer is JSON: a :class:`~zsearch.errors.ZsearchError` becomes
its 4xx with the message the CLI would print; anything else a 500; the service goes on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from zsearch import __version__
from zsearch.errors import EmptyDatabase, LockBusy, ModelLoadError, ModelMismatch, NotFound, ZsearchError
from zsearch.library import Library
from zsearch.serve import handlers
from zsearch.serve.client import MAX_K

log = logging.getLogger("zsearch.serve")

# Library calls at a time. One: on the 2-core machine the benchmark ran on, torch and LanceDB
# already use both cores for one query, and a FIFO queue keeps p99 near p50 under load
# (benchmarks/serve.py, docs/serve.md).
WORKERS = 1
# Largest request body: a --queries batch of ~10k lines fits; more is refused with 413.
MAX_BODY_BYTES = 8 * 1024 * 1024
# The HTTP status of each error kind; any other ZsearchError is a 400.
STATUS: dict[type[ZsearchError], int] = {NotFound: 404, EmptyDatabase: 409, ModelMismatch: 409,
                                         LockBusy: 503, ModelLoadError: 503}
WEB_FILES = {"index.html": "text/html; charset=utf-8", "app.css": "text/css; charset=utf-8",
             "app.js": "text/javascript; charset=utf-8"}


# -- request bodies (unknown fields are refused) --------------------------------------------------
class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchOptions(Strict):
    # k < 1 is left to the Library, whose message the CLI prints in-process too
    k: int = Field(10, le=MAX_K, description="Number of results (--k), 1 to MAX_K.")
    mode: str = Field("hybrid", description="hybrid, dense or bm25 (--mode).")
    rerank: str | None = Field(None, description="Cross-encoder to rerank with; 'none' turns the setting off.")
    rerank_top: int = Field(50, ge=1, le=MAX_K, description="Fused candidates the reranker re-orders.")
    year: str | None = Field(None, description="2021, 2019..2024, 2019.., ..2010 (--year).")
    source: list[str] | None = Field(None, description="arxiv, pubmed, pdf (--source).")
    category: list[str] | None = Field(None, description="arXiv category or MeSH term (--category).")
    author: list[str] | None = Field(None, description="Part of an author's name (--author).")
    since: str | None = Field(None, description="Added or published on/after YYYY-MM-DD (--since).")


class SearchRequest(SearchOptions):
    query: str = Field(..., description="The research question or keywords (not empty).")


class BatchRequest(SearchOptions):
    queries: list[str] = Field(..., min_length=1, max_length=100_000,
                               description="Lines of a --queries file: plain queries or JSON objects.")
    format: Literal["jsonl", "json", "csv"] = Field("jsonl", description="Output: jsonl, json or csv.")


class ClusterRequest(Strict):
    question: str | None = Field(None, description="Cluster this question's top results.")
    top: int = Field(50, ge=1, le=MAX_K, description="How many search results to cluster (--top).")
    k: int | Literal["auto"] = Field("auto", description="Number of themes, or 'auto'.")
    ids: list[str] | None = Field(None, description="Cluster these paper ids instead.")
    all: bool = Field(False, description="Cluster every paper (or every one `where` passes).")
    where: str | None = Field(None, description="SQL over paper columns, e.g. \"year >= 2020\".")
    seed: int = Field(42, description="KMeans seed (= zsearch.review.cluster.DEFAULT_SEED).")
    method: str | None = Field(None, description="smoothed (default), smoothed-dense, centered, plain, pca-whiten, hybrid.")
    other: bool = Field(False, description="Papers that fit no theme go to an 'other' group, theme 0 (--other).")

    def options(self) -> dict[str, Any]:
        return {"question": self.question, "top": self.top, "k": self.k, "ids": self.ids, "all_papers": self.all,
                "where": self.where, "seed": self.seed, "method": self.method, "other": self.other}


def error_body(exc: ZsearchError) -> dict[str, Any]:
    return {"error": type(exc).__name__, "message": exc.message, "hint": exc.hint, "exit_code": exc.exit_code}


def json_text(text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(content=text.encode("utf-8"), status_code=status, media_type="application/json",
                    headers=headers)


class Guard:
    """ASGI middleware: refuses an oversized body (413) and keeps :class:`Activity` up to date."""

    def __init__(self, app: Any, activity: "Activity"):
        self.app = app
        self.activity = activity

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        size = dict(scope.get("headers") or []).get(b"content-length")
        if size is not None and (not size.isdigit() or int(size) > MAX_BODY_BYTES):
            resp = JSONResponse({"error": "UsageError", "message": f"the request body is over {MAX_BODY_BYTES} "
                                 "bytes", "hint": None, "exit_code": 2}, status_code=413)
            return await resp(scope, receive, send)
        act = self.activity
        act.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            act.in_flight -= 1
            act.served += 1
            act.last = time.monotonic()


class Activity:
    """Requests in flight and the time of the last one (for --idle)."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.last = time.monotonic()
        self.served = 0

    def idle_for(self) -> float:
        return 0.0 if self.in_flight else time.monotonic() - self.last


def create_app(lib: Library, *, token: str | None = None, workers: int = WORKERS) -> FastAPI:
    """The app over an open Library; ``token``: every /api request must carry ``Bearer TOKEN``."""
    app = FastAPI(title="zsearch", version=__version__,
                  description="Local literature search over one zsearch database. JSON in, and out exactly "
                              "what `zsearch … --format json` prints. See docs/serve.md.")
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="zsearch-serve")
    reopen_lock = threading.Lock()
    state = {"lib": lib, "started": time.time()}
    activity = Activity()
    app.state.activity = activity
    app.state.pool = pool
    bearer = HTTPBearer(auto_error=False, description="The token in serve.token (with --port).")

    def authorize(cred: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if token is None:
            return
        if cred is None or not secrets.compare_digest(cred.credentials.encode(), token.encode()):
            raise StarletteHTTPException(401, "a bearer token is required (see serve.token in the database directory)")

    def current() -> Library:
        return state["lib"]

    def model_changed() -> bool:
        """After a reembed in another process the database has another model: open it afresh."""
        with reopen_lock:
            old = state["lib"]
            info = old.model_info()
            if info is None or (info[0], info[1]) == (old.model_name, old.dim):
                return False
            state["lib"] = Library(old.settings, create=False)
            state["lib"].keep_warm()
            return True

    async def on_lib(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        def work() -> Any:
            try:
                return fn(current(), *args, **kw)
            except ZsearchError:
                raise
            except Exception:
                if model_changed():
                    return fn(current(), *args, **kw)
                raise

        return await asyncio.get_running_loop().run_in_executor(pool, work)

    app.add_middleware(Guard, activity=activity)

    @app.exception_handler(ZsearchError)
    async def zsearch_error(request: Request, exc: ZsearchError) -> Response:
        return JSONResponse(error_body(exc), status_code=STATUS.get(type(exc), 400))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        malformed = any(e.get("type") == "json_invalid" for e in exc.errors())
        problems = [{"field": "body" if e.get("type") == "json_invalid"
                     else ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body",
                     "problem": e.get("msg", "invalid")} for e in exc.errors()]
        first = problems[0] if problems else {"field": "body", "problem": "invalid"}
        message = ("the request body is not valid JSON" if malformed
                   else f"{first['field']}: {first['problem']}")
        return JSONResponse({"error": "UsageError", "message": message, "hint": None, "exit_code": 2,
                             "problems": problems}, status_code=400 if malformed else 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        kind = {401: "Unauthorized", 404: "NotFound", 405: "UsageError"}.get(exc.status_code, "HTTPError")
        detail = {"Not Found": f"no endpoint {request.url.path}",
                  "Method Not Allowed": f"{request.method} is not allowed on {request.url.path}"}.get(
                      str(exc.detail), exc.detail)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse({"error": kind, "message": str(detail), "hint": None, "exit_code": 1},
                            status_code=exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path)
        first = str(exc).splitlines()[0] if str(exc) else ""
        return JSONResponse({"error": "InternalError", "message": f"{type(exc).__name__}: {first}", "hint": None,
                             "exit_code": 1}, status_code=500)

    # -- API ------------------------------------------------------------------------------------
    api = {"dependencies": [Depends(authorize)]}

    @app.get("/api/health", tags=["service"], **api)
    async def health() -> dict[str, Any]:
        """Answered at once, never queued behind searches."""
        lib = current()
        return {"status": "ok", "database": str(lib.home), "pid": os.getpid(), "version": __version__,
                "model": lib.model_name, "uptime_s": round(time.time() - state["started"], 1),
                "in_flight": activity.in_flight, "served": activity.served}

    @app.post("/api/search", tags=["search"], response_class=Response,
              responses={200: {"description": "`zsearch search --format json`: the hits, best first."}}, **api)
    async def search(req: SearchRequest) -> Response:
        return json_text(await on_lib(handlers.search_text, **req.model_dump()))

    @app.post("/api/search/batch", tags=["search"], response_class=Response,
              responses={200: {"description": "`zsearch search --queries FILE`: one result per query; the "
                                              "X-Zsearch-Exit-Code header is 1 if any query failed."}}, **api)
    async def batch(req: BatchRequest) -> Response:
        opts = req.model_dump(exclude={"queries", "format"})
        text, code = await on_lib(handlers.batch_text, req.queries, fmt=req.format, **opts)
        media = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}.get(req.format, "application/json")
        return Response(content=text.encode("utf-8"), media_type=media, headers={"X-Zsearch-Exit-Code": str(code)})

    @app.get("/api/papers/{paper_id:path}/pdf", tags=["papers"], response_class=Response,
             responses={200: {"content": {"application/pdf": {}}, "description": "The PDF it was read from."}}, **api)
    async def paper_pdf(paper_id: str) -> Response:
        path = await on_lib(handlers.paper_pdf, paper_id)
        return Response(content=path.read_bytes(), media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{path.name}"'})

    @app.get("/api/papers/{paper_id:path}", tags=["papers"], response_class=Response,
             responses={200: {"description": "`zsearch show ID --format json`."}}, **api)
    async def paper(paper_id: str, full_text: bool = False) -> Response:
        return json_text(await on_lib(handlers.paper_text, paper_id, full_text=full_text))

    @app.get("/api/stats", tags=["database"], response_class=Response,
             responses={200: {"description": "`zsearch stats --format json`."}}, **api)
    async def stats() -> Response:
        return json_text(await on_lib(handlers.stats_text))

    @app.post("/api/cluster", tags=["review"], response_class=Response,
              responses={200: {"description": "`zsearch cluster --format json`: labelled themes."}}, **api)
    async def cluster(req: ClusterRequest) -> Response:
        return json_text(await on_lib(handlers.cluster_text, **req.options()))

    @app.post("/api/cluster/map", tags=["review"], response_class=Response,
              responses={200: {"content": {"image/png": {}}, "description": "`zsearch cluster --plot`: the map."}},
              **api)
    async def cluster_map(req: ClusterRequest) -> Response:
        return Response(content=await on_lib(handlers.cluster_png, **req.options()), media_type="image/png")

    # -- the page ---------------------------------------------------------------------------------
    web = {name: resources.files("zsearch.serve").joinpath("web", name).read_bytes() for name in WEB_FILES}

    @app.get("/", include_in_schema=False)
    async def index() -> Response:
        return Response(web["index.html"], media_type=WEB_FILES["index.html"])

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in web or name == "index.html":
            raise StarletteHTTPException(404, f"no file {name}")
        return Response(web[name], media_type=WEB_FILES[name])

    return app
