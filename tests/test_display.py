"""User data is printed as text, never as Rich markup (issue 13, finding 5).

Titles, ids, queries, paths and error messages that quote them go through
``zsearch.cli.plain``/``line``: ``[/bold]`` no longer crashes a table or the error boundary,
``[i]`` no longer vanishes, and PubMed's ``[Treatment of sepsis in children].`` and
chemistry's ``[18F]`` print as written.
"""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from rich.console import Console

from tests.conftest import run_cli
from zsearch.papers.model import Paper

# What sources really send: MEDLINE's translated-title brackets, radiochemistry, a lower-case
# bracketed word (Rich's italic tag), an unmatched closing tag, a colon-wrapped emoji code.
TITLES = [
    "Effects of [/bold] markup on the reader",
    "[Treatment of sepsis in children].",
    "[18F]FDG PET imaging of [i] lesions",
    "Dilution 1:100: and [red]colour[/red] words",
]


def rendered(renderable: object, width: int = 200) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width, highlight=False, emoji=False, color_system=None).print(renderable)
    return buf.getvalue()


@pytest.mark.parametrize("title", TITLES + ["[/x]", "back\\", "a\\[i]"])
def test_plain_prints_every_title_as_written(title):
    from zsearch.cli import plain

    assert rendered(plain(title)).rstrip("\n") == title


def test_control_characters_cannot_drive_the_terminal():
    from zsearch.cli import plain

    assert rendered(plain("red\x1b[31m title\x07")).rstrip("\n") == "red\ufffd[31m title\ufffd"


def test_line_keeps_our_styles_and_user_text_literal():
    from zsearch.cli import line

    t = line(("error:", "bold red"), " no paper '[/x]'")
    assert t.plain == "error: no paper '[/x]'"
    assert rendered(t).rstrip("\n") == "error: no paper '[/x]'"


@pytest.fixture(scope="module")
def bracket_db(tmp_path_factory):
    """A real database whose papers carry the titles above (embedded with the bundled model)."""
    from zsearch.library import Library

    db = tmp_path_factory.mktemp("brackets") / "db"
    lib = Library.open(db)
    papers = [Paper(id=f"pmid:{9000 + i}", source="pubmed", pmid=str(9000 + i), title=t, year=2020 + i,
                    abstract=f"Abstract {i} about sepsis, tracers and [b]markup[/b].", authors=["[i] Doe"],
                    categories=["Carcinoma, Hepatocellular"])
              for i, t in enumerate(TITLES)]
    report = lib.ingest_papers(papers)
    assert report.added == len(TITLES)
    return db


@pytest.fixture
def wide(monkeypatch):
    """A wide stdout console, so table cells are not folded."""
    from zsearch.cli import out

    monkeypatch.setattr(out, "width", 250)


def test_search_table_prints_bracketed_titles(bracket_db, capsys, wide):
    code, out, err = run_cli(["search", "sepsis tracers markup", "--db", str(bracket_db), "-k", "4"], capsys)
    assert code == 0, err
    for t in TITLES:
        assert t in out, (t, out)


@pytest.mark.parametrize("i", range(len(TITLES)))
def test_show_prints_title_authors_and_abstract_as_written(bracket_db, capsys, wide, i):
    code, out, err = run_cli(["show", f"pmid:{9000 + i}", "--db", str(bracket_db)], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == TITLES[i]
    assert "[i] Doe" in lines and f"Abstract {i} about sepsis, tracers and [b]markup[/b]." in lines
    assert "categories: Carcinoma, Hepatocellular" in lines


@pytest.mark.parametrize("paper_id", ["[/x]", "[/bold]", "[i]", "doi:[red]x"])
def test_error_boundary_quotes_user_input_literally(bracket_db, capsys, paper_id):
    code, out, err = run_cli(["show", paper_id, "--db", str(bracket_db)], capsys)
    assert code == 3 and out == ""
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("error:") and repr(paper_id) in err


def test_error_boundary_with_a_bracketed_database_path(tmp_path, capsys):
    db = tmp_path / "[/x]"
    code, _, err = run_cli(["show", "pmid:1", "--db", str(db)], capsys)
    assert code == 3 and "Traceback" not in err
    assert str(db) in err and not db.exists()


def test_ingest_summary_names_bracketed_files(capsys):
    from zsearch.cli.core import print_ingest_summary

    report = SimpleNamespace(added=0, updated=0, unchanged=0, deleted=0, seconds=0.1,
                             failed=[("/papers/[/x] draft.pdf", "not a readable PDF: [i] broken")])
    print_ingest_summary(report)
    err = capsys.readouterr().err
    assert "failed /papers/[/x] draft.pdf: not a readable PDF: [i] broken" in err


def test_watch_commands_print_queries_as_written(tmp_path, capsys, wide):
    db = str(tmp_path / "db")
    q = 'ti:"[/bold] markup" AND abs:[i]'
    code, _, err = run_cli(["watch", "add", "brackets", "--arxiv", q, "--db", db], capsys)
    assert code == 0, err
    assert repr(q) in err
    code, out, err = run_cli(["watch", "list", "--db", db], capsys)
    assert code == 0, err
    assert q in out


def test_progress_label_is_not_markup(monkeypatch):
    import zsearch.cli.core as core

    monkeypatch.setattr(core, "show_progress", lambda: True)
    with core.progress_bar("reembed [/x]", 1) as advance:
        advance(1, 10)



def test_theme_tables_print_labels_and_titles_as_text(capsys):
    """`zsearch cluster` (table): a theme label or title with markup prints as written, no MarkupError."""
    from zsearch.cli.review import render_themes
    from zsearch.papers.model import Paper
    from zsearch.review.cluster import Clustering, Theme

    title = "Effects of [/bold] markup on [18F]FDG [i]uptake[/i]"
    theme = Theme(theme=1, label="[/x] [18f]fdg", terms=["[/x]", "[18f]fdg"], size=1, ids=["doi:10.1/a"],
                  distances=[0.1])
    render_themes(Clustering(k=1, themes=[theme], assignment={"doi:10.1/a": 1}),
                  {"doi:10.1/a": Paper(id="doi:10.1/a", source="pdf", title=title)})
    out = capsys.readouterr().out
    assert "[/x] [18f]fdg" in out and "[/bold]" in out and "[i]uptake[/i]" in " ".join(out.split())
