"""The review commands end to end on a real database: cluster, export, log, eval clusters."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from test_searchlog import scifact_papers

import zsearch.cli.review  # noqa: F401 - registers the commands
from zsearch.cli import main
from zsearch.review.searchlog import LOG_NAME, read_log

DATA = Path(__file__).parent / "data" / "clustering"
QUESTION = "treatment of infectious and metabolic disease"


@pytest.fixture(scope="module")
def review_db(tmp_path_factory):
    """A real LanceDB holding the 30 SciFact abstracts (tuberculosis, malaria, insulin)."""
    from zsearch.library import Library

    db = tmp_path_factory.mktemp("reviewdb") / "db"
    report = Library.open(db).ingest_papers(scifact_papers())
    assert report.added == 30
    return db


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def topic_of() -> dict[str, str]:
    return {p.id: p.extra["topic"] for p in scifact_papers()}


def test_cluster_json_is_byte_identical_and_themes_follow_topics(review_db, capsys):
    args = ["cluster", QUESTION, "--top", "30", "--k", "3", "--db", str(review_db), "--format", "json"]
    code, first, _ = run(capsys, *args)
    assert code == 0
    _, second, _ = run(capsys, *args)
    assert first == second
    obj = json.loads(first)
    assert obj["question"] == QUESTION and obj["k"] == 3 and obj["seed"] == 42
    topics = topic_of()
    for t in obj["themes"]:
        members = {topics[i] for i in t["ids"]}
        assert len(members) == 1
        assert members.pop() in t["label"]
        assert [p["id"] for p in t["papers"]] == t["ids"]
    assert sum(t["size"] for t in obj["themes"]) == 30


def test_cluster_auto_k_says_which_k_and_why(review_db, capsys):
    code, out, _ = run(capsys, "cluster", "--all", "--k", "auto", "--db", str(review_db), "--format", "json")
    assert code == 0
    obj = json.loads(out)
    sil = {int(k): v for k, v in obj["silhouette"].items()}
    assert sorted(sil) == list(range(2, 11))
    assert obj["k"] == max(sil, key=sil.get)
    assert f"k={obj['k']}: highest mean silhouette" in obj["k_reason"]


def test_cluster_all_matches_the_same_ids_and_other_gives_every_paper_one_group(review_db, capsys, tmp_path):
    _, listed, _ = run(capsys, "cluster", "--all", "--k", "3", "--db", str(review_db), "--format", "json")
    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join(json.loads(listed)["themes"][0]["ids"][::-1] + [
        i for t in json.loads(listed)["themes"][1:] for i in t["ids"]]), encoding="utf-8")
    _, by_ids, _ = run(capsys, "cluster", "--ids", str(ids), "--k", "3", "--db", str(review_db), "--format", "json")
    a, b = json.loads(listed), json.loads(by_ids)
    assert a["themes"] == b["themes"] and a["k_reason"] == b["k_reason"]
    code, out, _ = run(capsys, "cluster", "--all", "--k", "3", "--other", "--db", str(review_db), "--format", "json")
    assert code == 0
    themes = json.loads(out)["themes"]
    assert sorted(i for t in themes for i in t["ids"]) == sorted(topic_of())
    assert all(t["theme"] != 0 or t["label"].startswith("other") for t in themes)


def test_cluster_json_is_written_as_encoded_with_the_bytes_of_json_dumps():
    import numpy as np

    from zsearch.cli.review import write_cluster_json
    from zsearch.papers.model import Paper
    from zsearch.review.cluster import cluster_papers
    from zsearch.review.selection_files import cluster_json

    rng = np.random.default_rng(0)
    ids = [f"p{i:02d}" for i in range(40)]
    papers = {i: Paper(id=i, source="pdf", title=f"Title «{n}» \"q\"", year=2000 + n % 3 if n % 4 else None)
              for n, i in enumerate(ids)}
    c = cluster_papers(ids, rng.standard_normal((40, 8)), [papers[i].title for i in ids], k=3, other=True)
    buf = io.StringIO()
    write_cluster_json(c, papers, "q?", buf)
    assert buf.getvalue() == json.dumps(cluster_json(c, papers, "q?"), ensure_ascii=False, indent=2) + "\n"


def test_cluster_table_report_plot_and_log(review_db, capsys, tmp_path):
    report, plot, log = tmp_path / "r.md", tmp_path / "p.png", tmp_path / "log.jsonl"
    code, out, _ = run(capsys, "cluster", QUESTION, "--top", "30", "--k", "3", "--db", str(review_db),
                       "--report", str(report), "--plot", str(plot), "--log", str(log))
    assert code == 0
    assert "3 themes" in out and "tuberculosis" in out
    text = report.read_text()
    assert text.startswith(f"# Themes: {QUESTION}")
    assert str(review_db) in text and "all-MiniLM-L6-v2" in text
    assert "![map of the themes](p.png)" in text
    for topic in ("tuberculosis", "malaria", "insulin"):
        assert f"{topic}" in text
    first_title = scifact_papers()[0].title
    assert first_title in text
    # the plot is a real PNG of a useful size, not a blank canvas
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    img = matplotlib.image.imread(plot)
    assert img.shape[0] >= 800 and img.shape[1] >= 1200
    assert len({tuple(px) for px in img[::20, ::20].reshape(-1, img.shape[2]).round(2).tolist()}) > 5
    # the log records the run
    rec = read_log(log)[-1]
    assert rec["command"] == "cluster" and rec["query"] == QUESTION
    assert rec["n_results"] == 30 and len(rec["ids"]) == 30
    assert rec["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert isinstance(rec["table_version"]["papers"], int)
    assert rec["params"]["k_chosen"] == 3 and rec["params"]["seed"] == 42


def test_review_dir_collects_every_run(review_db, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ZSEARCH_REVIEW_DIR", str(tmp_path / "review"))
    run(capsys, "cluster", "malaria", "--top", "10", "--k", "2", "--db", str(review_db), "--format", "jsonl")
    run(capsys, "cluster", "insulin", "--top", "10", "--k", "2", "--db", str(review_db), "--format", "csv")
    recs = read_log(tmp_path / "review" / LOG_NAME)
    assert [r["query"] for r in recs] == ["malaria", "insulin"]
    code, out, _ = run(capsys, "log", "--prisma")
    assert code == 0
    assert "| cluster | malaria |" in out.replace("  ", " ") or "malaria" in out
    assert "unique records returned by the logged searches" in out
    code, out, _ = run(capsys, "log", "--format", "json")
    assert [r["query"] for r in json.loads(out)] == ["malaria", "insulin"]


def test_cluster_csv_and_jsonl_rows(review_db, capsys):
    _, out, _ = run(capsys, "cluster", "--all", "--k", "3", "--db", str(review_db), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 30 and {r["theme"] for r in rows} == {"1", "2", "3"}
    _, out, _ = run(capsys, "cluster", "--all", "--k", "3", "--db", str(review_db), "--format", "jsonl")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [r["id"] for r in rows]


def test_export_ris_from_a_cluster_result_imports_into_rispy(review_db, capsys, tmp_path):
    import rispy

    _, out, _ = run(capsys, "cluster", "--all", "--k", "3", "--db", str(review_db), "--format", "json")
    cj = tmp_path / "c.json"
    cj.write_text(out)
    ris = tmp_path / "review.ris"
    code, _, err = run(capsys, "export", "--format", "ris", "--cluster-json", str(cj), "-o", str(ris), "--db", str(review_db))
    assert code == 0 and "wrote 30 papers" in err
    refs = rispy.loads(ris.read_text())
    assert len(refs) == 30
    labels = {t["theme"]: t["label"] for t in json.loads(out)["themes"]}
    topics = topic_of()
    for r in refs:
        kw = r["keywords"][0]
        assert kw.startswith("zsearch theme ")
        num = int(kw.split()[2].rstrip(":"))
        assert kw.endswith(labels[num])
        assert topics[r["id"]] in labels[num]


def test_export_bibtex_all_and_ids_from_stdin(review_db, capsys, monkeypatch):
    import bibtexparser

    code, out, _ = run(capsys, "export", "--format", "bibtex", "--all", "--db", str(review_db))
    assert code == 0
    lib = bibtexparser.parse_string(out)
    assert len(lib.entries) == 30 and not lib.failed_blocks
    ids = [p.id for p in scifact_papers()[:4]]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(ids) + "\n"))
    code, out, _ = run(capsys, "export", "--format", "jsonl", "--ids", "-", "--db", str(review_db))
    assert [json.loads(line)["id"] for line in out.splitlines()] == ids


def test_export_needs_exactly_one_selection(review_db, capsys):
    code, _, err = run(capsys, "export", "--format", "ris", "--all", "--query", "x", "--db", str(review_db))
    assert code == 2 and "exactly one of" in err
    code, _, err = run(capsys, "export", "--format", "endnote", "--all", "--db", str(review_db))
    assert code == 2 and "bibtex, ris, csv, jsonl" in err


def test_eval_clusters_reports_v_measure_ari_nmi(capsys, tmp_path):
    with (DATA / "medical_150.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))[::3]  # 50 rows, 10 per class: keeps the test quick
    path = tmp_path / "medical.jsonl"
    with path.open("w") as fh:
        for r in rows:
            fh.write(json.dumps({"text": r["medical_abstract"], "condition": r["condition_label"]}) + "\n")
    code, out, _ = run(capsys, "eval", "clusters", str(path), "--label", "condition", "--k", "5", "--format", "json")
    assert code == 0
    res = json.loads(out)
    assert {"v_measure", "ari", "nmi", "k"} <= set(res)
    assert res["k"] == 5 and res["n"] == 50
    assert 0.1 < res["v_measure"] <= 1.0 and 0 < res["nmi"] <= 1.0 and res["ari"] > 0
    assert len(res["themes"]) == 5 and all(t["label"] for t in res["themes"])
    code, _, err = run(capsys, "eval", "clusters", str(path), "--label", "nope")
    assert code == 2 and "condition" in err  # names the fields there are


def test_cli_seed_default_is_the_library_default():
    from zsearch.cli.review import DEFAULT_SEED
    from zsearch.review.cluster import DEFAULT_SEED as LIB_SEED

    assert DEFAULT_SEED == LIB_SEED
