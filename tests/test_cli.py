"""The CLI as a user meets it: real subprocesses, stdout for results, one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.conftest import PDFS, SPECTER_QUERY


def zsearch(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {**os.environ, **(env or {})}
    e.pop("COLUMNS", None)
    return subprocess.run([sys.executable, "-m", "zsearch", *args], capture_output=True, text=True, env=e, timeout=600)


def test_help_and_stats_never_import_torch(pdf_db):
    probe = (
        "import sys\nfrom zsearch.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    for args in (["--help"], ["search", "--help"], ["stats", "--db", str(pdf_db[0])],
                 ["stats", "--db", str(pdf_db[0]), "--format", "json"]):
        r = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120)
        assert "HEAVY []" in r.stderr, (args, r.stderr)
    r = subprocess.run([sys.executable, "-c", probe, "--help"], capture_output=True, text=True)
    assert "lancedb" not in r.stderr


def test_search_json_is_clean_stdout_and_ranks_specter_first(pdf_db):
    r = zsearch("search", SPECTER_QUERY, "--db", str(pdf_db[0]), "--format", "json", "-k", "3")
    assert r.returncode == 0, r.stderr
    hits = json.loads(r.stdout)
    assert len(hits) == 3 and "SPECTER" in hits[0]["title"]
    assert {"rank", "score", "id", "year", "title"} <= set(hits[0])
    r = zsearch("search", SPECTER_QUERY, "--db", str(pdf_db[0]), "--format", "jsonl", "-k", "2")
    assert [json.loads(line)["rank"] for line in r.stdout.splitlines()] == [1, 2]


def test_table_show_and_stats(pdf_db):
    db = str(pdf_db[0])
    r = zsearch("search", SPECTER_QUERY, "--db", db, "-k", "2")
    assert r.returncode == 0, r.stderr
    assert "SPECTER" in r.stdout and "Loading weights" not in r.stderr
    short = re.search(r"sha256:[0-9a-f]+", r.stdout).group(0)
    assert len(short) == len("sha256:") + 16
    assert json.loads(zsearch("show", short, "--db", db, "--format", "json").stdout)["id"].startswith(short)
    hit = json.loads(zsearch("search", SPECTER_QUERY, "--db", db, "--format", "json", "-k", "1").stdout)[0]
    shown = json.loads(zsearch("show", hit["id"], "--db", db, "--format", "json").stdout)
    assert shown["id"] == hit["id"] and shown["sources"] == ["pdf"] and shown["path"].endswith(".pdf")
    stats = json.loads(zsearch("stats", "--db", db, "--format", "json").stdout)
    assert stats["papers"] == 4 and stats["by_source"] == {"pdf": 4} and stats["chunks"] > 0
    assert stats["model"] == "sentence-transformers/all-MiniLM-L6-v2"


def test_user_mistakes_are_one_line_errors_without_traceback(tmp_path, pdf_db):
    (tmp_path / "empty" / "lancedb").mkdir(parents=True)
    cases = [
        (["show", "doi:10.9/none", "--db", str(pdf_db[0])], 3),
        (["search", "anything", "--db", str(tmp_path / "typo")], 3),  # no database there: none is created
        (["search", "anything", "--db", str(tmp_path / "empty")], 4),  # a database without papers
        (["ingest", "pdf", str(tmp_path / "missing.pdf"), "--db", str(tmp_path / "x")], 3),
        (["search", "x", "--db", str(pdf_db[0]), "--format", "yaml"], 2),
    ]
    for args, code in cases:
        r = zsearch(*args)
        assert r.returncode == code, (args, r.returncode, r.stderr)
        assert "Traceback" not in r.stderr
        assert r.stderr.strip().startswith("error:") and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert r.stdout == ""


def test_usage_errors_exit_2_without_traceback(tmp_path):
    for args in (["search"], ["search", "x", "--no-such-option"], ["ingest", "pdf"]):
        r = zsearch(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert "Traceback" not in r.stderr
        assert "Usage:" in r.stderr or r.stderr.startswith("error: give a query"), r.stderr


def test_ingest_cli_names_failures_and_exits_1(tmp_path):
    r = zsearch("ingest", "pdf", str(PDFS / "broken"), str(PDFS / "acl_anthology" / "N18-3011.pdf"),
                "--db", str(tmp_path / "db"), "--format", "json")
    assert r.returncode == 1, r.stderr
    summary = json.loads(r.stdout)
    assert summary["added"] == 1 and len(summary["failed"]) == 2
    assert all(f["reason"] for f in summary["failed"])
