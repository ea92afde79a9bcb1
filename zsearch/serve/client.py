"""The thin client: find the running service of a database and send it one request.

Standard library only (``http.client`` over the Unix socket), so a ``zsearch search`` that the
service answers imports neither numpy, lancedb nor torch (tests/test_serve.py checks it). The
file names here are the service's too (zsearch.serve.lifecycle writes them).

>>> svc = find_service("~/papers-db")                      # doctest: +SKIP
>>> reply = svc.request("POST", "/api/search", {"query": "sleep apnea", "k": 5})  # doctest: +SKIP
>>> reply.text                                             # doctest: +SKIP
'[\\n  {\\n    "rank": 1, ...'
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zsearch import errors
from zsearch.config import resolve_home

# Files the service keeps in the database directory.
STATE_FILE = "serve.json"  # where it listens and its pid, written once it answers (0600)
SOCKET_FILE = "serve.sock"  # the Unix socket (0600), when its path fits in sun_path
TOKEN_FILE = "serve.token"  # the bearer token of a --port service (0600)
LOCK_FILE = "serve.lock"  # held (flock) by the one service of a database; not the writer lock
LOG_FILE = "serve.log"  # a --background service's output

# The largest k and rerank_top the service accepts: a page a reviewer screens is a few hundred
# papers, and k widens every retriever's candidate depth (zsearch.search.pipeline), so a huge k
# is a memory fault waiting to happen. Deeper searches run in-process (`--no-service`).
MAX_K = 1000
# Seconds a health check may take before the service is taken for gone: it is answered on the
# event loop, never queued behind searches, so a live service answers in a millisecond or two.
HEALTH_TIMEOUT = 2.0
# Seconds one request may take (a cluster of --top 1000, a cold reranker's first load).
REQUEST_TIMEOUT = 600.0
# Environment variable that turns the service off for the CLI, as --no-service does.
NO_SERVICE_ENV = "ZSEARCH_NO_SERVICE"


@dataclass
class Reply:
    """One response: status, the body as text (what the CLI prints), headers (lower-case names)."""

    status: int
    text: str
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.text)

    def raise_for_error(self) -> "Reply":
        """A 4xx/5xx becomes the ZsearchError the in-process path would raise (same message, exit code)."""
        if self.status < 400:
            return self
        raise error_from(self.status, self.text)


def paper_path(paper_id: str, *, full_text: bool = False) -> str:
    """The path of ``GET /api/papers/{id}`` (a DOI may hold ``?``, ``#``, ``<``…: all quoted but ``:`` and ``/``)."""
    from urllib.parse import quote

    return f"/api/papers/{quote(paper_id, safe=':/')}" + ("?full_text=true" if full_text else "")


def error_from(status: int, text: str) -> errors.ZsearchError:
    """The service's JSON error body -> the ZsearchError of that kind (by class name in zsearch.errors)."""
    try:
        body = json.loads(text)
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    kind = getattr(errors, str(body.get("error", "")), None)
    message = str(body.get("message") or f"the search service answered HTTP {status}")
    hint = body.get("hint")
    if isinstance(kind, type) and issubclass(kind, errors.ZsearchError):
        return kind(message, hint=hint)
    exc = errors.ZsearchError(message, hint=hint)
    if isinstance(body.get("exit_code"), int):
        exc.exit_code = body["exit_code"]
    return exc


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix domain socket (the Host header says ``localhost``)."""

    def __init__(self, path: str, timeout: float = REQUEST_TIMEOUT):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


@dataclass
class Service:
    """A running service, as its state file describes it."""

    home: Path
    pid: int
    socket: str | None = None  # the Unix socket path
    host: str | None = None  # with --port: the TCP address
    port: int | None = None
    token: str | None = None  # with --port: every request carries it (the Unix socket too)

    @property
    def url(self) -> str | None:
        return f"http://{self.host}:{self.port}" if self.port is not None else None

    def connection(self, timeout: float = REQUEST_TIMEOUT) -> http.client.HTTPConnection:
        if self.socket:
            return UnixHTTPConnection(self.socket, timeout=timeout)
        return http.client.HTTPConnection(self.host or "127.0.0.1", self.port, timeout=timeout)

    def request(self, method: str, path: str, body: Any = None, *, timeout: float = REQUEST_TIMEOUT) -> Reply:
        """Send one request (``body``: a JSON-able value, or None); OSError if the service is gone."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            return Reply(resp.status, raw.decode("utf-8"), {k.lower(): v for k, v in resp.getheaders()})
        except http.client.HTTPException as exc:  # a service killed mid-answer: gone, like a refused connect
            raise ConnectionError(str(exc)) from exc
        finally:
            conn.close()

    def health(self, timeout: float = HEALTH_TIMEOUT) -> dict[str, Any] | None:
        """The health document, or None if the service does not answer as this database's service."""
        try:
            reply = self.request("GET", "/api/health", timeout=timeout)
            doc = reply.json() if reply.status == 200 else None
        except (OSError, ValueError):
            return None
        if not isinstance(doc, dict) or doc.get("status") != "ok" or doc.get("database") != str(self.home):
            return None
        return doc


def read_state(home: Path) -> dict[str, Any] | None:
    """The state file of the database's service, or None (no service, or one still starting)."""
    try:
        doc = json.loads((home / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process took the pid: not our service
        return False
    return True


def service_home(db: str | os.PathLike[str] | None) -> Path:
    """The database directory as the service names it (absolute, symlinks resolved)."""
    return resolve_home(db).resolve()


def find_service(db: str | os.PathLike[str] | None = None, *, check: bool = True) -> Service | None:
    """The running service of the database in ``db`` (``--db``, else ``$ZSEARCH_HOME``…), or None.

    A service counts only if its state file names a live pid and (``check``) it answers a
    health check as the service of this very database.
    """
    home = service_home(db)
    state = read_state(home)
    if not state or not isinstance(state.get("pid"), int) or not pid_alive(state["pid"]):
        return None
    token = None
    if state.get("token_file"):
        try:
            token = Path(state["token_file"]).read_text(encoding="utf-8").strip()
        except OSError:
            return None
    svc = Service(home=home, pid=state["pid"], socket=state.get("socket"), host=state.get("host"),
                  port=state.get("port"), token=token)
    if check and svc.health() is None:
        return None
    return svc


def service_disabled(flag: bool = False) -> bool:
    """Whether the CLI must run in-process: ``--no-service`` or ``$ZSEARCH_NO_SERVICE`` set (not 0)."""
    env = os.environ.get(NO_SERVICE_ENV, "").strip().lower()
    return flag or env not in ("", "0", "false", "no")


def call(db: str | os.PathLike[str] | None, method: str, path: str, body: Any = None, *,
         no_service: bool = False) -> Reply | None:
    """Send one request to the database's service; None when there is none (run in-process then).

    A 4xx/5xx reply is returned as it is: :meth:`Reply.raise_for_error` turns it into the
    error the in-process path raises. A service that vanishes mid-request also gives None:
    searches are reads, so running them again in-process is safe.
    """
    if service_disabled(no_service):
        return None
    svc = find_service(db)
    if svc is None:
        return None
    try:
        return svc.request(method, path, body)
    except OSError:
        return None
