"""A replay server for network-client tests: real HTTP on 127.0.0.1, recorded bodies.

``ReplayServer`` is a real :class:`http.server.ThreadingHTTPServer` running in a thread.
Routes map a path plus a subset of query parameters to a *script* of replies (status,
headers, body, optional delay); each request to a route takes the next reply and the last
one repeats, so "429 then 503 then 200" is ``[Reply(429), Reply(503), Reply(200, body)]``.
Every request is recorded with its arrival time (``time.monotonic()``), path, query
parameters, headers and client port — tests check spacing between requests and that one
connection was reused, never wall-clock totals.

Use it directly::

    with ReplayServer() as srv:
        srv.add("/api/query", {"start": "0"}, Reply(200, body))
        httpx.get(srv.url + "/api/query?start=0")

or through the ``replay_server`` pytest fixture (``from replay import replay_server`` in a
test module, or in a conftest).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to provoke client timeouts)
    content_type: str = "application/xml; charset=utf-8"


@dataclass
class Request:
    """One request the server received."""

    time: float  # time.monotonic() on arrival
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    client_port: int


@dataclass
class Route:
    path: str
    params: dict[str, str]
    replies: list[Reply]
    served: int = 0

    def next_reply(self) -> Reply:
        reply = self.replies[min(self.served, len(self.replies) - 1)]
        self.served += 1
        return reply


def _flat(params: Mapping[str, list[str]]) -> dict[str, str]:
    return {k: v[-1] for k, v in params.items()}


class ReplayServer:
    """Real HTTP server on 127.0.0.1 replaying scripted replies; see the module docstring."""

    def __init__(self, *, rewrite: Callable[[bytes, ReplayServer], bytes] | None = None) -> None:
        self.routes: list[Route] = []
        self.requests: list[Request] = []
        self.rewrite = rewrite  # applied to every body served (e.g. point PDF links here)
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- routes ------------------------------------------------------------------------------
    def add(self, path: str, params: Mapping[str, Any] | None, replies: Reply | bytes | Iterable[Reply]) -> Route:
        """Route ``path`` + these query parameters (a subset match) to a script of replies.

        When several routes match, the one naming the most parameters wins, and among
        those the one added last (so a test can override a recording).
        """
        if isinstance(replies, bytes):
            script = [Reply(200, replies)]
        elif isinstance(replies, Reply):
            script = [replies]
        else:
            script = list(replies)
        if not script:
            raise ValueError("a route needs at least one reply")
        route = Route(path, {k: str(v) for k, v in (params or {}).items()}, script)
        with self._lock:
            self.routes.append(route)
        return route

    def add_recorded(self, url: str, reply: Reply | Iterable[Reply], *, keys: Iterable[str] | None = None) -> Route:
        """Route a recorded request by its URL's path and the query parameters named in ``keys``."""
        parts = urlsplit(url)
        params = _flat(parse_qs(parts.query, keep_blank_values=True))
        if keys is not None:
            params = {k: params.get(k, "") for k in keys}
        return self.add(parts.path, params, reply)

    def add_arxiv_recordings(self, folder: str | Path, *, path_prefix: str = "") -> list[Route]:
        """Every arxiv.py-style recording in ``folder`` (``*.json`` with url/status_code, raw
        bodies in ``xml_bodies/``), routed by search_query, id_list, start and max_results."""
        folder = Path(folder)
        routes = []
        for meta_path in sorted(folder.glob("*.json")):
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            body = (folder / "xml_bodies" / (meta_path.stem + ".xml")).read_bytes()
            url = meta["url"]
            parts = urlsplit(url)
            routes.append(self.add_recorded(path_prefix + parts.path + "?" + parts.query,
                                            Reply(int(meta["status_code"]), body, content_type="application/atom+xml"),
                                            keys=("search_query", "id_list", "start", "max_results")))
        return routes

    # -- inspection ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def gaps(self, path: str | None = None) -> list[float]:
        """Seconds between the arrivals of consecutive requests (to ``path`` if given)."""
        times = [r.time for r in self.requests if path is None or r.path == path]
        return [b - a for a, b in zip(times, times[1:])]

    # -- lifecycle -----------------------------------------------------------------------------
    def _match(self, path: str, params: dict[str, str]) -> Route | None:
        best: Route | None = None
        with self._lock:
            for r in self.routes:
                if r.path != path:
                    continue
                if all(params.get(k, "") == v for k, v in r.params.items()):
                    # most parameters named wins; on a tie the route added last (an override)
                    if best is None or len(r.params) >= len(best.params):
                        best = r
        return best

    def start(self) -> ReplayServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, so a client can reuse one connection

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                params = _flat(parse_qs(parts.query, keep_blank_values=True))
                with server._lock:
                    server.requests.append(Request(time.monotonic(), "GET", parts.path, params,
                                                   dict(self.headers.items()), self.client_address[1]))
                route = server._match(parts.path, params)
                if route is None:
                    reply = Reply(404, f"no recorded response for {self.path}".encode(), content_type="text/plain")
                else:
                    with server._lock:
                        reply = route.next_reply()
                if reply.delay:
                    time.sleep(reply.delay)
                body = server.rewrite(reply.body, server) if server.rewrite else reply.body
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(body)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="replay-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def replay_server() -> Iterator[ReplayServer]:
    """A started :class:`ReplayServer`, stopped after the test."""
    with ReplayServer() as srv:
        yield srv
