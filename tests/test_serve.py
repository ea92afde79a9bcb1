"""zsearch serve: a real service (uvicorn on a real Unix socket and 127.0.0.1 port) over a copy of the test database.

One service runs for the module (the model loads once); each test talks to it as the CLI and
a browser do. Nothing is mocked: the freshness test ingests from another process, the browser
test drives Debian's chromium.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import SPECTER_QUERY, run_cli

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 240  # seconds: the model loads first, on a busy 2-core machine


def zsearch_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "zsearch", *args]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def wait_for_service(db: Path, proc: subprocess.Popen | None = None, timeout: float = START_TIMEOUT):
    from zsearch.serve.client import find_service

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"zsearch serve exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        svc = find_service(db)
        if svc is not None:
            return svc
        time.sleep(0.2)
    raise AssertionError("the service did not answer in time")


@pytest.fixture(scope="module")
def served(pdf_db, tmp_path_factory):
    """``(db, service, process)``: `zsearch serve --port 0` on a private copy of the test database."""
    db = tmp_path_factory.mktemp("served") / "db"
    shutil.copytree(pdf_db[0], db)
    proc = subprocess.Popen(zsearch_cmd("serve", "--db", str(db), "--port", "0"), env=child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        svc = wait_for_service(db, proc)
        yield db, svc, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def post(svc, path, body):
    return svc.request("POST", path, body)


def raw_request(svc, method: str, path: str, body: bytes | None, headers: dict[str, str]):
    """A request with a hand-made body (malformed JSON, a lying Content-Length…)."""
    conn = svc.connection(timeout=60)
    try:
        conn.request(method, path, body=body, headers={"Authorization": f"Bearer {svc.token}", **headers})
        resp = conn.getresponse()
        return resp.status, resp.read(), dict(resp.getheaders())
    finally:
        conn.close()


# -- the CLI's JSON, byte for byte --------------------------------------------------------------------
def test_answers_are_the_cli_json_byte_for_byte(served, capsys, tmp_path):
    db, svc, _ = served
    code, cli_out, _ = run_cli(["search", SPECTER_QUERY, "--db", str(db), "--format", "json", "-k", "3"], capsys)
    assert code == 0
    reply = post(svc, "/api/search", {"query": SPECTER_QUERY, "k": 3})
    assert reply.status == 200 and reply.headers["content-type"].startswith("application/json")
    assert reply.text == cli_out
    assert json.loads(reply.text)[0]["title"].startswith("SPECTER")

    args = ["--year", "2019..2024", "--source", "pdf", "--mode", "bm25", "-k", "2"]
    code, cli_out, _ = run_cli(["search", "citation graph", "--db", str(db), "--format", "json", *args], capsys)
    reply = post(svc, "/api/search", {"query": "citation graph", "k": 2, "year": "2019..2024", "source": ["pdf"],
                                      "mode": "bm25"})
    assert code == 0 and reply.text == cli_out

    pid = json.loads(cli_out)[0]["id"]
    code, cli_out, _ = run_cli(["show", pid, "--db", str(db), "--format", "json"], capsys)
    assert code == 0 and svc.request("GET", f"/api/papers/{pid}").text == cli_out
    full = svc.request("GET", f"/api/papers/{pid}?full_text=true").json()
    assert len(full["full_text"]) > 1000

    code, cli_out, _ = run_cli(["stats", "--db", str(db), "--format", "json"], capsys)
    assert code == 0 and svc.request("GET", "/api/stats").text == cli_out

    code, cli_out, _ = run_cli(["cluster", "--all", "--k", "2", "--db", str(db), "--format", "json"], capsys)
    reply = post(svc, "/api/cluster", {"all": True, "k": 2})
    assert code == 0 and reply.text == cli_out

    queries = tmp_path / "q.txt"
    queries.write_text(f"{SPECTER_QUERY}\n# a comment\n{{\"id\": \"q2\", \"query\": \"layout analysis\", \"k\": 1}}\n"
                       "{\"query\": \"\"}\n", encoding="utf-8")
    code, cli_out, _ = run_cli(["search", "--queries", str(queries), "--db", str(db), "-k", "2"], capsys)
    reply = post(svc, "/api/search/batch", {"queries": queries.read_text().splitlines(), "k": 2})
    assert code == 1 and reply.text == cli_out and reply.headers["x-zsearch-exit-code"] == "1"


def test_the_map_and_the_pdf(served):
    _, svc, _ = served
    png = svc.connection()
    png.request("POST", "/api/cluster/map", body=json.dumps({"all": True, "k": 2}),
                headers={"Authorization": f"Bearer {svc.token}", "Content-Type": "application/json"})
    resp = png.getresponse()
    assert resp.status == 200 and resp.getheader("content-type") == "image/png"
    assert resp.read()[:8] == b"\x89PNG\r\n\x1a\n"
    hits = post(svc, "/api/search", {"query": SPECTER_QUERY, "k": 1}).json()
    status, body, headers = raw_request(svc, "GET", f"/api/papers/{hits[0]['id']}/pdf", None, {})
    assert status == 200 and headers["content-type"] == "application/pdf" and body.startswith(b"%PDF")


# -- bad input: a 4xx naming the problem, and the service goes on -------------------------------------
BAD = [
    ({"query": "x", "k": -1}, 400, "k must be at least 1"),
    ({"query": "x", "k": 0}, 400, "k must be at least 1"),
    ({"query": "x", "k": 10**9}, 422, "k: Input should be less than or equal to 1000"),
    ({"query": "x", "rerank_top": 0}, 422, "rerank_top"),
    ({"query": ""}, 400, "the query is empty"),
    ({"query": "   "}, 400, "the query is empty"),
    ({"k": 3}, 422, "query: Field required"),
    ({"query": "x", "limit": 3}, 422, "limit: Extra inputs are not permitted"),
    ({"query": "x", "year": "soon"}, 400, "--year takes YEAR or FROM..TO"),
    ({"query": "x", "source": ["scopus"]}, 400, "unknown source 'scopus'"),
    ({"query": "x", "mode": "psychic"}, 400, "unknown search mode 'psychic'"),
    ({"query": "x", "since": "last week"}, 400, "since"),
    ({"query": 42}, 422, "query: Input should be a valid string"),
    ([1, 2], 422, "body: Input should be a valid dictionary"),
]


@pytest.mark.parametrize("body,status,words", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_search_requests_get_a_4xx_naming_the_problem(served, body, status, words):
    _, svc, proc = served
    reply = post(svc, "/api/search", body)
    assert reply.status == status, reply.text
    doc = reply.json()
    assert doc["error"] == "UsageError" and words in doc["message"], doc
    assert proc.poll() is None


def test_more_bad_requests_and_the_service_lives_on(served):
    _, svc, proc = served
    status, text, _ = raw_request(svc, "POST", "/api/search", b'{"query": "x", ', {"Content-Type": "application/json"})
    assert status == 400 and json.loads(text)["message"] == "the request body is not valid JSON"
    status, text, _ = raw_request(svc, "POST", "/api/search", b"\xff\xfe", {"Content-Type": "application/json"})
    assert 400 <= status < 500
    status, text, _ = raw_request(svc, "POST", "/api/search/batch", b"x",
                                  {"Content-Type": "application/json", "Content-Length": str(64 * 1024 * 1024)})
    assert status == 413 and "bytes" in json.loads(text)["message"]

    from zsearch.serve.client import paper_path

    assert paper_path("doi:10.1002/(sici)1097<x>#1") == "/api/papers/doi:10.1002/%28sici%291097%3Cx%3E%231"
    reply = svc.request("GET", paper_path("doi:10.9999/no-such-paper"))
    assert reply.status == 404 and json.loads(reply.text)["message"] == "no paper with id 'doi:10.9999/no-such-paper'"
    assert svc.request("GET", "/api/no-such-endpoint").status == 404
    assert svc.request("GET", "/static/../../etc/passwd").status == 404
    assert svc.request("DELETE", "/api/stats").status == 405
    assert post(svc, "/api/cluster", {"question": "x", "all": True}).json()["message"].startswith("give exactly one")
    assert post(svc, "/api/cluster", {"all": True, "k": "many"}).status == 422
    assert post(svc, "/api/search/batch", {"queries": []}).status == 422
    # a condition LanceDB rejects deep inside: a 500 with a JSON body, not a dead service
    reply = post(svc, "/api/cluster", {"all": True, "where": "year >>>> 'x"})
    assert reply.status in (400, 500) and reply.json()["message"]
    assert svc.health() is not None and proc.poll() is None
    assert post(svc, "/api/search", {"query": SPECTER_QUERY, "k": 1}).status == 200


# -- where and how it listens -------------------------------------------------------------------------
def test_private_socket_and_files_and_a_token_on_the_port(served):
    db, svc, _ = served
    for name in ("serve.sock", "serve.token", "serve.json", "serve.lock"):
        assert stat.S_IMODE((db / name).stat().st_mode) == 0o600, name
    assert stat.S_ISSOCK((db / "serve.sock").stat().st_mode) and svc.socket == str(db / "serve.sock")
    assert svc.host == "127.0.0.1" and svc.port

    def tcp(headers):
        conn = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=30)
        conn.request("GET", "/api/stats", headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read(), dict(resp.getheaders())

    assert tcp({})[0] == 401
    assert tcp({"Authorization": "Bearer not-the-token"})[0] == 401
    assert tcp({"Authorization": f"Bearer {svc.token}"})[0] == 200
    # the Unix socket wants the token too when a port is open
    assert raw_request(svc, "GET", "/api/stats", None, {"Authorization": "Bearer nope"})[0] == 401
    # CORS is off: a cross-origin preflight gets no Access-Control-Allow-Origin
    conn = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=30)
    conn.request("OPTIONS", "/api/search", headers={"Origin": "https://evil.example",
                                                     "Access-Control-Request-Method": "POST"})
    resp = conn.getresponse()
    assert "access-control-allow-origin" not in {k.lower() for k, _ in resp.getheaders()}
    # only loopback: the port is not reachable on another address of this machine
    others = {ai[4][0] for ai in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1"}
    for addr in others:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            assert s.connect_ex((addr, svc.port)) != 0, addr
    # the page and the API docs are there, without data in them
    conn = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=30)
    conn.request("GET", "/")
    page = conn.getresponse()
    assert page.status == 200 and b"<title>zsearch</title>" in page.read()
    conn.request("GET", "/openapi.json")
    paths = json.loads(conn.getresponse().read())["paths"]
    assert {"/api/search", "/api/search/batch", "/api/papers/{paper_id}", "/api/stats", "/api/cluster",
            "/api/health"} <= set(paths)


def test_one_service_per_database(served):
    db, svc, _ = served
    r = subprocess.run(zsearch_cmd("serve", "--db", str(db)), env=child_env(), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 75 and "already running" in r.stderr and str(svc.pid) in r.stderr
    assert svc.health() is not None


def test_the_client_imports_neither_numpy_lancedb_nor_torch(served):
    db, _, _ = served
    code = textwrap.dedent(f"""
        import sys
        import zsearch.cli
        from zsearch.serve.client import call
        reply = call({str(db)!r}, "POST", "/api/search", {{"query": "citation", "k": 2}})
        assert reply is not None and reply.status == 200, reply
        heavy = sorted(m for m in ("numpy", "lancedb", "pyarrow", "torch", "fastapi", "uvicorn") if m in sys.modules)
        print("heavy:", heavy)
    """)
    r = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=child_env(), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "heavy: []" in r.stdout
    imported = {line.split("|")[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert not {"numpy", "lancedb", "torch"} & imported


def test_no_service_means_none_and_errors_come_back_as_the_cli_raises_them(served, tmp_path, monkeypatch):
    from zsearch.errors import NotFound
    from zsearch.serve.client import call

    db, _, _ = served
    assert call(tmp_path / "elsewhere", "GET", "/api/stats") is None
    monkeypatch.setenv("ZSEARCH_NO_SERVICE", "1")
    assert call(db, "GET", "/api/stats") is None
    monkeypatch.delenv("ZSEARCH_NO_SERVICE")
    reply = call(db, "GET", "/api/papers/pmid:1")
    with pytest.raises(NotFound) as exc:
        reply.raise_for_error()
    assert exc.value.exit_code == 3 and str(exc.value).startswith("no paper with id 'pmid:1'")


def cli_routes_through_the_service() -> bool:
    from zsearch.cli.core import search

    return "no_service" in search.__code__.co_varnames


ROUTED = [
    ["search", SPECTER_QUERY, "--format", "json", "-k", "3"],
    ["search", "citation graph", "--format", "csv", "--year", "2019..2024", "--mode", "bm25"],
    ["search", "citation graph"],
    ["search", "x", "--year", "soon"],
    ["show", "pmid:1"],
    ["stats", "--format", "json"],
    ["stats"],
    ["cluster", "--all", "--k", "2"],
]


@pytest.mark.parametrize("args", ROUTED, ids=[" ".join(a[:2]) + f" #{i}" for i, a in enumerate(ROUTED)])
def test_the_cli_goes_through_the_service_and_prints_the_same_bytes(served, args):
    """`zsearch search|show|stats|cluster` with a service up print what --no-service prints, byte for byte."""
    if not cli_routes_through_the_service():
        pytest.skip("zsearch/cli/core.py does not route through the service yet (no --no-service)")
    db, svc, _ = served
    before = svc.health()["served"]
    a = subprocess.run(zsearch_cmd(*args, "--db", str(db)), env=child_env(), capture_output=True, text=True,
                       timeout=300)
    assert svc.health()["served"] - before >= 3  # our two health checks' first, and the CLI's health + request
    b = subprocess.run(zsearch_cmd(*args, "--db", str(db), "--no-service"), env=child_env(), capture_output=True,
                       text=True, timeout=300)
    assert (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr)


# -- freshness: another process's commit is seen within about a second ---------------------------------
def test_sees_another_process_ingest_within_a_second(served):
    db, svc, _ = served
    pid = "pmid:99999901"
    assert svc.request("GET", f"/api/papers/{pid}").status == 404
    writer = textwrap.dedent(f"""
        from zsearch.library import Library
        from zsearch.papers.model import Paper
        lib = Library.open({str(db)!r})
        rep = lib.ingest_papers([Paper(id={pid!r}, source="pubmed", pmid="99999901", year=2024,
            title="Axolotl limb regeneration after amputation",
            abstract="Axolotls regrow whole limbs after amputation. We follow blastema cells over time.")])
        assert rep.added == 1, rep
    """)
    env = {**child_env(), "ZSEARCH_LOCK_WAIT": "0"}  # the service must not hold the writer lock
    r = subprocess.run([sys.executable, "-c", writer], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    done = time.monotonic()
    while svc.request("GET", f"/api/papers/{pid}").status != 200:
        assert time.monotonic() - done < 5, "the service did not see the new paper"
        time.sleep(0.05)
    seen = time.monotonic() - done
    print(f"new paper visible {seen:.2f} s after the writer exited")
    assert seen < 3.0  # read consistency 1 s, plus a loaded machine's slack
    hits = post(svc, "/api/search", {"query": "axolotl limb regeneration", "k": 1}).json()
    assert hits[0]["id"] == pid
    assert svc.request("GET", "/api/stats").json()["papers"] == 5


# -- the web page in a real browser --------------------------------------------------------------------
def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def test_web_page_searches_and_opens_a_paper_in_chromium(served):
    browser_path = chromium()
    if browser_path is None:
        pytest.skip("no chromium on this machine (.ci/run installs Debian's: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
    _, svc, _ = served
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"http://127.0.0.1:{svc.port}/#token={svc.token}")
            assert "token" not in page.url  # the page keeps it, the address bar does not
            page.fill("#q", "citation-informed transformers for scientific documents")
            page.click("#go")
            page.wait_for_selector(".hit", timeout=60_000)
            first = page.locator(".hit").first
            assert "SPECTER" in first.locator("h2").inner_text()
            assert first.locator(".match").inner_text().strip()
            assert first.locator(".links a", has_text="PDF").count() == 1
            assert "results in" in page.inner_text("#status")
            first.locator("h2 a").click()
            page.wait_for_selector("#paper:not([hidden]) .paper-title", timeout=60_000)
            assert "SPECTER" in page.inner_text("#paper .paper-title")
            assert "Representation learning" in page.inner_text("#paper .abstract")
            page.click("#paper .back")
            assert page.locator("#results").is_visible()
            assert not errors, errors
        finally:
            browser.close()


# -- life cycle: background, idle exit, stop -----------------------------------------------------------
def test_background_then_idle_exit_then_stop(pdf_db, tmp_path):
    from zsearch.serve.client import find_service

    db = tmp_path / "db"
    shutil.copytree(pdf_db[0], db)
    t0 = time.monotonic()
    r = subprocess.run(zsearch_cmd("serve", "--db", str(db), "--background", "--idle", "4s"), env=child_env(),
                       capture_output=True, text=True, timeout=START_TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert "running (pid" in r.stderr
    svc = find_service(db)
    assert svc is not None and svc.port is None and svc.token is None  # socket only: no token needed
    assert svc.request("GET", "/api/stats").status == 200
    st = subprocess.run(zsearch_cmd("serve", "status", "--db", str(db)), env=child_env(), capture_output=True,
                        text=True, timeout=60)
    assert st.returncode == 0 and json.loads(st.stdout)["pid"] == svc.pid
    # no request for 4 s: it exits by itself and leaves no socket or state behind
    deadline = time.monotonic() + 60
    while (db / "serve.json").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not (db / "serve.json").exists() and not (db / "serve.sock").exists()
    print(f"background start + idle exit: {time.monotonic() - t0:.1f} s")
    st = subprocess.run(zsearch_cmd("serve", "stop", "--db", str(db)), env=child_env(), capture_output=True,
                        text=True, timeout=60)
    assert st.returncode == 3 and "no zsearch service is running" in st.stderr


def test_stop_ends_the_module_service(served):
    """Last: `zsearch serve stop` ends the service gracefully and removes its socket, token and state."""
    db, svc, proc = served
    r = subprocess.run(zsearch_cmd("serve", "stop", "--db", str(db)), env=child_env(), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and f"pid {svc.pid}" in r.stderr
    assert proc.wait(30) == 0
    for name in ("serve.sock", "serve.token", "serve.json"):
        assert not (db / name).exists(), name


def test_durations_and_long_socket_paths(tmp_path):
    from zsearch.errors import UsageError
    from zsearch.serve.lifecycle import MAX_SOCKET_PATH, parse_duration, socket_path

    assert parse_duration("30m") == 1800 and parse_duration("2h") == 7200 and parse_duration("45") == 45
    for bad in ("", "soon", "-5m", "0", "3w"):
        with pytest.raises(UsageError):
            parse_duration(bad)
    assert socket_path(tmp_path) == tmp_path / "serve.sock"
    deep = tmp_path / ("d" * 120)
    p = socket_path(deep)
    assert len(str(p)) <= MAX_SOCKET_PATH and p.parent.stat().st_mode & 0o077 == 0
    assert socket_path(deep) == p  # the same database, the same socket
