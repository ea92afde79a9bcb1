"""The service's life: the one-service lock, where it listens, its token, background start, idle exit, stop.

Listening: always on a Unix socket (``serve.sock`` in the database directory, mode 0600 from
the moment it exists: bound under umask 0177), so only its user can connect. With
``--port N`` also on 127.0.0.1:N, and then every request needs the bearer token the service
generates at start and keeps in ``serve.token`` (0600). A non-loopback address only with
``--host``. One service per database: it holds ``serve.lock`` (flock) while it runs; it never
takes the writer lock, so ingests and refreshes go on beside it, and it sees their commits
within a second (zsearch.store.tables.READ_CONSISTENCY_SECONDS).
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from zsearch.errors import LockBusy, NotFound, UsageError, ZsearchError
from zsearch.serve.client import (
    LOCK_FILE,
    LOG_FILE,
    SOCKET_FILE,
    STATE_FILE,
    TOKEN_FILE,
    Service,
    find_service,
    pid_alive,
    read_state,
    service_home,
)

# The loopback address --port listens on unless --host names another.
DEFAULT_HOST = "127.0.0.1"
# sun_path holds 108 bytes on Linux (104 on macOS); a longer socket path goes to a runtime dir.
MAX_SOCKET_PATH = 100
# Seconds `serve --background` waits for the service to answer (the model loads first; a
# busy 2-core machine takes ~10 s, a first download of a large model longer).
START_TIMEOUT = 180.0
# Seconds `serve stop` waits for a graceful exit (in-flight requests finish) before SIGKILL.
STOP_TIMEOUT = 20.0
# How often the idle watch looks (at most; a short --idle looks more often).
IDLE_POLL_SECONDS = 5.0


def parse_duration(text: str) -> float:
    """``--idle`` values: ``90``, ``90s``, ``30m``, ``2h``, ``1d`` (plain numbers are seconds).

    >>> parse_duration("30m"), parse_duration("90"), parse_duration("1.5h")
    (1800.0, 90.0, 5400.0)
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text or "")
    if not m or float(m.group(1)) <= 0:
        raise UsageError(f"--idle takes a duration such as 90s, 30m or 2h, not {text!r}")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def socket_path(home: Path) -> Path:
    """``DB/serve.sock``, or (a path too long for sun_path) one in a private runtime directory."""
    p = home / SOCKET_FILE
    if len(os.fsencode(str(p))) <= MAX_SOCKET_PATH:
        return p
    import hashlib

    base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"zsearch-{os.getuid()}"
    base.mkdir(mode=0o700, exist_ok=True)
    os.chmod(base, 0o700)
    return base / (hashlib.sha256(str(home).encode()).hexdigest()[:24] + ".sock")


# -- the one-service lock ---------------------------------------------------------------------------
@contextlib.contextmanager
def service_lock(home: Path) -> Iterator[None]:
    """Hold ``serve.lock`` (its content: our pid); LockBusy if another service holds it."""
    fd = os.open(home / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            st = read_state(home) or {}
            where = st.get("socket") or (f"{st.get('host')}:{st.get('port')}" if st.get("port") else "starting")
            raise LockBusy(f"a zsearch service is already running for {home} (pid {lock_pid(home) or '?'}, {where})",
                           hint="`zsearch serve stop` stops it") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing the file releases the flock


def lock_held(home: Path) -> bool:
    """Whether some process holds the database's service lock (a service runs or is starting)."""
    try:
        fd = os.open(home / LOCK_FILE, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def lock_pid(home: Path) -> int | None:
    try:
        return int((home / LOCK_FILE).read_text().strip() or 0) or None
    except (OSError, ValueError):
        return None


# -- sockets and files -----------------------------------------------------------------------------
def bind_unix(path: Path) -> socket.socket:
    """A listening Unix socket at ``path``, created 0600 (never briefly wider)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a stale one: we hold the lock, so no live service owns it
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    sock.listen(128)
    return sock


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_tcp(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"--host {host!r}: {exc.strerror}") from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    return sock


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (0600 from creation), replacing any old one atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


@dataclass
class Listening:
    home: Path
    socket: Path
    host: str | None = None
    port: int | None = None
    token: str | None = None

    @property
    def page(self) -> str | None:
        """The web page's address, its token in the fragment (the page keeps it, the server never sees it)."""
        return f"http://{self.host}:{self.port}/#token={self.token}" if self.port is not None else None


def _stop_on_signal(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def run(db: str | os.PathLike[str] | None, *, port: int | None = None, host: str | None = None,
        idle: float | None = None, announce: Any = None) -> None:
    """Run the service in this process until SIGTERM/SIGINT, ``serve stop`` or ``idle`` seconds without requests.

    ``announce(listening)`` is called once it answers (the CLI prints where it listens).
    """
    import uvicorn

    from zsearch.library import Library
    from zsearch.serve.app import create_app

    if host is not None and port is None:
        raise UsageError("--host needs --port (without --port the service listens only on its Unix socket)")
    home = service_home(db)
    lib = Library.open(home, create=False)
    with service_lock(home):
        warm(lib)
        listening = Listening(home=home, socket=socket_path(home))
        sockets = [bind_unix(listening.socket)]
        files = [listening.socket, home / STATE_FILE]
        app: Any = None
        try:
            if port is not None:
                listening.host = host or DEFAULT_HOST
                tcp = bind_tcp(listening.host, port)
                sockets.append(tcp)
                listening.port = tcp.getsockname()[1]
                listening.token = secrets.token_urlsafe(32)
                write_private(home / TOKEN_FILE, listening.token + "\n")
                files.append(home / TOKEN_FILE)
            app = create_app(lib, token=listening.token)
            config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                    timeout_graceful_shutdown=10)
            server = uvicorn.Server(config)
            if idle:
                threading.Thread(target=_idle_watch, args=(server, app.state.activity, idle), daemon=True,
                                 name="zsearch-idle").start()
            threading.Thread(target=_announce_when_up, args=(server, listening, announce), daemon=True).start()
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, _stop_on_signal)  # uvicorn re-raises what it caught once it has shut down
            server.run(sockets=sockets)
        finally:
            for s in sockets:
                s.close()
            for f in files:
                with contextlib.suppress(FileNotFoundError):
                    f.unlink()
            if app is not None:
                app.state.pool.shutdown(wait=False, cancel_futures=True)


def warm(lib: Any) -> None:
    """Load the model and open the tables before the first request (a query against an empty database is fine)."""
    from zsearch.errors import EmptyDatabase

    try:
        lib.search("warm up", k=1)
    except EmptyDatabase:
        pass
    lib.keep_warm(block=True)  # the tables' vectors in memory (zsearch.store.memory), kept fresh


def _announce_when_up(server: Any, listening: Listening, announce: Any) -> None:
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.02)
    state = {"pid": os.getpid(), "database": str(listening.home), "socket": str(listening.socket),
             "host": listening.host, "port": listening.port,
             "token_file": str(listening.home / TOKEN_FILE) if listening.token else None,
             "started": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")}
    write_private(listening.home / STATE_FILE, json.dumps(state, indent=2) + "\n")
    if announce:
        announce(listening)


def _idle_watch(server: Any, activity: Any, idle: float) -> None:
    while not server.should_exit:
        time.sleep(min(IDLE_POLL_SECONDS, max(idle / 4, 0.1)))
        if activity.idle_for() >= idle:
            server.should_exit = True


# -- background, status, stop ----------------------------------------------------------------------------
def start_background(db: str | os.PathLike[str] | None, args: Sequence[str], *,
                     timeout: float = START_TIMEOUT) -> Service:
    """Start ``zsearch serve ARGS`` detached (its own session, output to ``serve.log``); wait until it answers."""
    home = service_home(db)
    if not (home / "lancedb").is_dir():
        raise NotFound(f"no zsearch database at {home}", hint="check --db or $ZSEARCH_HOME")
    if lock_held(home):
        raise LockBusy(f"a zsearch service is already running for {home} (pid {lock_pid(home) or '?'})",
                       hint="`zsearch serve stop` stops it")
    log_path = home / LOG_FILE
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "zsearch", "serve", "--db", str(home), *args],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                close_fds=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
            raise ZsearchError(f"the service did not start (exit code {proc.returncode})"
                               + (": " + " | ".join(tail) if tail else ""), hint=f"see {log_path}")
        state = read_state(home)
        if state and state.get("pid") == proc.pid:
            svc = find_service(home)
            if svc is not None:
                return svc
        time.sleep(0.1)
    proc.terminate()
    raise ZsearchError(f"the service did not answer within {timeout:.0f} s", hint=f"see {log_path}")


def status(db: str | os.PathLike[str] | None) -> dict[str, Any]:
    """Where the database's service listens and its health; NotFound when none runs."""
    home = service_home(db)
    svc = find_service(home, check=False)
    health = svc.health() if svc else None
    if svc is None or health is None:
        raise NotFound(f"no zsearch service is running for {home}"
                       + (" (one is starting)" if lock_held(home) else ""), hint="start one with `zsearch serve`")
    out = {"database": str(home), "pid": svc.pid, "socket": svc.socket, "url": svc.url, **{
        k: health[k] for k in ("model", "version", "uptime_s", "in_flight", "served") if k in health}}
    if svc.token and svc.url:
        out["page"] = f"{svc.url}/#token={svc.token}"
    return out


def stop(db: str | os.PathLike[str] | None, *, timeout: float = STOP_TIMEOUT) -> int:
    """Stop the database's service (SIGTERM, then SIGKILL after ``timeout`` s); returns its pid."""
    home = service_home(db)
    if not lock_held(home):
        _remove_leftovers(home)
        raise NotFound(f"no zsearch service is running for {home}")
    pid = lock_pid(home) or (read_state(home) or {}).get("pid")
    if not isinstance(pid, int) or not pid_alive(pid):
        raise ZsearchError(f"the service lock of {home} is held, but by no process zsearch can name",
                           hint=f"look for the process holding {home / LOCK_FILE}")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while lock_held(home) and time.monotonic() < deadline:
        time.sleep(0.05)
    if lock_held(home):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        while lock_held(home) and time.monotonic() < deadline + 5:
            time.sleep(0.05)
        _remove_leftovers(home)
    return pid


def _remove_leftovers(home: Path) -> None:
    """The files of a service that was killed (SIGKILL leaves them): only when no service holds the lock."""
    state = read_state(home) or {}
    for f in (home / STATE_FILE, home / TOKEN_FILE, Path(state.get("socket") or home / SOCKET_FILE)):
        with contextlib.suppress(FileNotFoundError):
            f.unlink()
