"""Saved searches: definitions, query building, atomic files, the writer lock, and `zsearch watch`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

import zsearch.cli.pipeline  # noqa: F401  (registers `watch` and `refresh` until cli/__init__ imports it)
from tests.conftest import run_cli  # noqa: E402,F401
from zsearch.errors import LockBusy, NotFound, UsageError
from zsearch.ops.lock import holder, is_locked, lock_path, writer_lock
from zsearch.ops.watch import Watch, Watches, arxiv_query, atomic_write_json, pubmed_term

# -- queries (pure; checked by hand) ------------------------------------------------------------

def test_arxiv_query_folds_categories_and_years():
    assert arxiv_query("ti:bert") == "ti:bert"
    assert arxiv_query("ti:bert", ["cs.CL"]) == "(ti:bert) AND cat:cs.CL"
    assert arxiv_query("ti:bert", ["cs.CL", "cs.IR"]) == "(ti:bert) AND (cat:cs.CL OR cat:cs.IR)"
    assert arxiv_query("ti:bert", year_from=2020, year_to=2021) == \
        "(ti:bert) AND submittedDate:[202001010000 TO 202112312359]"
    assert arxiv_query("x", year_from=2024) == "(x) AND submittedDate:[202401010000 TO 999912312359]"


def test_pubmed_term_folds_years():
    assert pubmed_term("crispr[ti]") == "crispr[ti]"
    assert pubmed_term("crispr[ti]", 2020, 2024) == "(crispr[ti]) AND 2020:2024[dp]"
    assert pubmed_term("a OR b", year_to=1999) == "(a OR b) AND 1000:1999[dp]"


def test_watch_validation():
    with pytest.raises(UsageError, match="needs --arxiv"):
        Watch("w")
    with pytest.raises(UsageError, match="bad watch name"):
        Watch("../etc", arxiv="x")
    with pytest.raises(UsageError, match="YYYY-MM-DD"):
        Watch("w", arxiv="x", since="yesterday")
    with pytest.raises(UsageError, match="after"):
        Watch("w", pubmed="x", year_from=2024, year_to=2020)
    with pytest.raises(UsageError, match="--category"):
        Watch("w", pubmed="x", categories=["cs.CL"])
    assert Watch("w", arxiv="a", pubmed="p").sources == ["arxiv", "pubmed"]


def test_fingerprint_changes_with_the_query_only():
    a = Watch("w", arxiv="ti:bert", pubmed="bert")
    assert a.fingerprint("arxiv") == Watch("w", arxiv="ti:bert").fingerprint("arxiv")
    assert a.fingerprint("arxiv") != Watch("w", arxiv="ti:gpt").fingerprint("arxiv")
    assert a.fingerprint("arxiv") != Watch("w", arxiv="ti:bert", categories=["cs.CL"]).fingerprint("arxiv")
    assert a.fingerprint("pubmed") != a.fingerprint("arxiv")


# -- files ------------------------------------------------------------------------------------

def test_add_list_remove_round_trip(tmp_path):
    ws = Watches(tmp_path)
    ws.add(Watch("b", pubmed="cancer", max_results=5))
    ws.add(Watch("a", arxiv="testing", categories=["cs.SE"], full_text=True))
    assert [w.name for w in ws.all()] == ["a", "b"]
    a = ws.get("a")
    assert a.full_text and a.categories == ["cs.SE"] and a.created
    with pytest.raises(UsageError, match="exists"):
        ws.add(Watch("a", arxiv="other"))
    ws.add(Watch("a", arxiv="other"), replace=True)
    assert ws.get("a").arxiv == "other"
    assert ws.remove("b").pubmed == "cancer"
    with pytest.raises(NotFound):
        ws.remove("b")
    with pytest.raises(NotFound):
        ws.select(["nope"])
    data = json.loads((tmp_path / "watches.json").read_text())
    assert list(data["watches"]) == ["a"] and data["version"] == 1


def test_state_is_per_source_and_reset_by_a_new_query(tmp_path):
    ws = Watches(tmp_path)
    w = ws.add(Watch("w", arxiv="testing", pubmed="cancer"))
    t = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    ws.record(w, status="partial", started=t, succeeded={"arxiv": t}, summary={"added": 1})
    assert ws.last_success(w, "arxiv") == t
    assert ws.last_success(w, "pubmed") is None  # it failed: the next run starts it over
    changed = Watch("w", arxiv="testing AND cat:cs.SE", pubmed="cancer")
    assert ws.last_success(changed, "arxiv") is None
    assert ws.state()["w"]["last_status"] == "partial"


def test_an_incomplete_window_keeps_its_start_and_says_why(tmp_path):
    ws = Watches(tmp_path)
    w = ws.add(Watch("w", arxiv="testing", pubmed="cancer"))
    t1 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    t2 = datetime(2026, 1, 3, 3, 4, 5, tzinfo=timezone.utc)
    ws.record(w, status="ok", started=t1, succeeded={"arxiv": t1, "pubmed": t1}, summary={})
    # the next run left part of PubMed's window behind: its start stays at t1, arXiv's moves to t2
    ws.record(w, status="partial", started=t2, succeeded={"arxiv": t2},
              incomplete={"pubmed": ["cut short by --max 5 of 15,169"]}, summary={})
    assert ws.last_success(w, "arxiv") == t2 and ws.last_success(w, "pubmed") == t1
    st = ws.state()["w"]["sources"]["pubmed"]
    assert st["incomplete"] == ["cut short by --max 5 of 15,169"] and st["last_attempt"] == t2.isoformat()
    # completed later: the reasons go
    ws.record(w, status="ok", started=t2, succeeded={"pubmed": t2}, summary={})
    assert "incomplete" not in ws.state()["w"]["sources"]["pubmed"]
    # a new query is a new window: an incomplete first run of it keeps no start from the old one
    changed = ws.add(Watch("w", arxiv="testing", pubmed="cancer AND review[pt]"), replace=True)
    ws.record(changed, status="partial", started=t2, succeeded={}, incomplete={"pubmed": ["1 record(s) failed"]},
              summary={})
    assert ws.last_success(changed, "pubmed") is None
    assert ws.last_success(w, "pubmed") is None  # the old query's start was replaced


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    p = tmp_path / "x.json"
    atomic_write_json(p, {"a": 1})
    atomic_write_json(p, {"a": 2})
    assert json.loads(p.read_text()) == {"a": 2}
    assert sorted(f.name for f in tmp_path.iterdir()) == ["x.json"]


def test_broken_watches_file_is_a_clear_error(tmp_path):
    (tmp_path / "watches.json").write_text("{not json")
    with pytest.raises(UsageError, match="not valid JSON"):
        Watches(tmp_path).all()


# -- the writer lock, with a real second process ------------------------------------------------

HOLD = (
    "import sys, time\n"
    "from zsearch.ops.lock import writer_lock\n"
    "with writer_lock(sys.argv[1], purpose='test holder'):\n"
    "    print('held', flush=True)\n"
    "    time.sleep(600)\n"
)


def test_lock_is_exclusive_names_its_holder_and_dies_with_it(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        assert is_locked(tmp_path)
        assert holder(tmp_path)["pid"] == proc.pid
        with pytest.raises(LockBusy) as info:
            with writer_lock(tmp_path, wait=0.3):
                pass
        assert info.value.exit_code == 75
        assert f"pid {proc.pid}" in str(info.value) and "test holder" in str(info.value)
        proc.send_signal(signal.SIGKILL)  # no cleanup runs: the kernel drops the flock
        proc.wait(timeout=30)
        with writer_lock(tmp_path, wait=5):
            assert holder(tmp_path)["pid"] == os.getpid()
        assert not is_locked(tmp_path)
        assert lock_path(tmp_path).exists()  # the file stays; only the flock means "busy"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_waiting_for_the_lock_gets_it_when_the_holder_exits(tmp_path):
    code = HOLD.replace("time.sleep(600)", "time.sleep(1.5)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with writer_lock(tmp_path, wait=120):
            assert proc.poll() is not None or holder(tmp_path)["pid"] == os.getpid()
    finally:
        proc.wait(timeout=60)


def test_negative_wait_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError):
        with writer_lock(tmp_path, wait=-1):
            pass


# -- `zsearch watch` ---------------------------------------------------------------------------

def test_watch_cli(tmp_path, capsys):
    db = str(tmp_path / "db")
    code, _, err = run_cli(["watch", "add", "se", "--arxiv", "testing", "--category", "cs.SE", "--max", "10",
                            "--db", db], capsys)
    assert code == 0 and "saved search 'se'" in err and "cat:cs.SE" in err
    code, _, _ = run_cli(["watch", "add", "pm", "--pubmed", "cancer", "--year-from", "2020", "--db", db], capsys)
    assert code == 0
    code, _, err = run_cli(["watch", "add", "pm", "--pubmed", "x", "--db", db], capsys)
    assert code == 2 and "exists" in err
    code, _, err = run_cli(["watch", "add", "bad", "--db", db], capsys)
    assert code == 2 and "needs --arxiv" in err
    code, out, _ = run_cli(["watch", "list", "--format", "json", "--db", db], capsys)
    rows = json.loads(out)
    assert [r["name"] for r in rows] == ["pm", "se"]
    assert rows[0]["pubmed_query"] == "(cancer) AND 2020:3000[dp]" and rows[0]["last_run"] is None
    assert rows[1]["arxiv_query"] == "(testing) AND cat:cs.SE" and rows[1]["max_results"] == 10
    code, out, _ = run_cli(["watch", "list", "--format", "csv", "--db", db], capsys)
    assert out.splitlines()[0].startswith("name,arxiv_query,pubmed_query")
    code, out, _ = run_cli(["watch", "list", "--db", db], capsys)
    assert code == 0 and "se" in out and "never" in out
    code, _, err = run_cli(["watch", "remove", "pm", "--db", db], capsys)
    assert code == 0 and "removed" in err
    code, _, err = run_cli(["watch", "remove", "pm", "--db", db], capsys)
    assert code == 3 and "no saved search" in err
    assert [w.name for w in Watches(Path(db)).all()] == ["se"]


def test_watch_uses_zsearch_home(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ZSEARCH_HOME", str(tmp_path / "home"))
    code, _, _ = run_cli(["watch", "add", "x", "--pubmed", "cancer"], capsys)
    assert code == 0
    assert (tmp_path / "home" / "watches.json").exists()
