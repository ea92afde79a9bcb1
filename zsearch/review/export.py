"""Export papers for review tools (RIS, BibTeX, CSV, JSON Lines), and cluster results out and back in.

RIS is written by rispy and BibTeX by bibtexparser (2.x), so quoting and field syntax are
theirs, not string templates; CSV and JSONL use the standard library. A paper's theme
from ``zsearch cluster`` goes into RIS keywords (``KW``) and a BibTeX ``keywords`` field, so
screening tools (ASReview, Rayyan, Zotero) can filter by it.

Column names of the CSV follow ASReview's reader (``title``, ``abstract``, ``authors``,
``keywords``, ``doi``), so the file loads there as it is.

:func:`write_export` streams: it writes :data:`EXPORT_BATCH` papers at a time to a file, so
``export --all`` holds one batch in memory whatever the database's size, and writes the
same bytes as :func:`export_papers` (RIS numbering and BibTeX citation keys run on across
batches).

A ``zsearch cluster`` result is written as one JSON object (:func:`cluster_json`) or one
flat record per paper (:func:`cluster_records`); :func:`themes_from_cluster_json` reads the
object back, so ``zsearch export --cluster-json`` can put each paper's theme in its keywords.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from zsearch.errors import UsageError
from zsearch.papers.model import Paper

if TYPE_CHECKING:
    pass

EXPORT_FORMATS = ("bibtex", "ris", "csv", "jsonl")
# Papers formatted and written at a time by write_export: a batch of abstracts is ~1-2 MB of
# text, and writing in batches keeps an export's memory flat (benchmarks/scale.py).
EXPORT_BATCH = 1_000
# Columns of `zsearch cluster --format csv/jsonl`: where the paper sits, then what it is.
CLUSTER_COLUMNS = ("theme", "label", "rank", "distance", "id", "year", "title", "doi", "url")
CSV_COLUMNS = (
    "id", "title", "authors", "year", "doi", "pmid", "arxiv_id", "url", "source",
    "journal", "keywords", "theme", "theme_label", "abstract",
)  # fmt: skip


def theme_keyword(theme: int, label: str) -> str:
    """The keyword a theme becomes in RIS/BibTeX: ``zsearch theme 2: heart failure, stroke``."""
    return f"zsearch theme {theme}: {label}"


def _keywords(paper: Paper, theme: tuple[int, str] | None) -> list[str]:
    kws = [theme_keyword(*theme)] if theme else []
    return kws + [c for c in paper.categories if c]


def _journal(paper: Paper) -> str | None:
    j = paper.extra.get("journal") if isinstance(paper.extra, dict) else None
    return str(j) if j else None


def _url(paper: Paper) -> str | None:
    if paper.url:
        return paper.url
    if paper.doi:
        return f"https://doi.org/{paper.doi}"
    if paper.arxiv_id:
        return f"https://arxiv.org/abs/{paper.arxiv_id}"
    if paper.pmid:
        return f"https://pubmed.ncbi.nlm.nih.gov/{paper.pmid}/"
    return None


# -- RIS --------------------------------------------------------------------------------


def ris_record(paper: Paper, theme: tuple[int, str] | None = None) -> dict[str, Any]:
    """One rispy reference dict for a paper (``TY`` JOUR for journal/PubMed/DOI records,
    ``UNPB`` for arXiv preprints, ``GEN`` otherwise)."""
    if _journal(paper) or paper.pmid:
        ty = "JOUR"
    elif paper.arxiv_id:
        ty = "UNPB"
    elif paper.doi:
        ty = "JOUR"
    else:
        ty = "GEN"
    rec: dict[str, Any] = {"type_of_reference": ty, "id": paper.id}
    if paper.title:
        rec["title"] = _one_line(paper.title)
    if paper.authors:
        rec["authors"] = list(paper.authors)
    if paper.year:
        rec["year"] = str(paper.year)
    if paper.published:
        rec["date"] = paper.published
    if paper.abstract:
        rec["abstract"] = _one_line(paper.abstract)
    if paper.doi:
        rec["doi"] = paper.doi
    if _journal(paper):
        rec["secondary_title"] = _journal(paper)
    url = _url(paper)
    if url:
        rec["urls"] = [url]
    if paper.pmid:
        rec["accession_number"] = str(paper.pmid)
    kws = _keywords(paper, theme)
    if kws:
        rec["keywords"] = kws
    rec["name_of_database"] = ", ".join(paper.sources or [paper.source])
    rec["notes"] = [f"zsearch id: {paper.id}"]
    return rec


def to_ris(papers: Iterable[Paper], themes: Mapping[str, tuple[int, str]] | None = None) -> str:
    """RIS text for ``papers`` (readable by Zotero, EndNote, ASReview and rispy)."""
    return "".join(_ris_parts(papers, themes or {}))


def _ris_parts(papers: Iterable[Paper], themes: Mapping[str, tuple[int, str]]) -> Iterator[str]:
    """RIS text batch by batch; records are numbered on across batches, as one rispy.dumps would."""
    import rispy

    class Numbered(rispy.RisWriter):  # rispy numbers from 1 per call; a batch starts where the last ended
        start = 0

        def set_header(self, count: int) -> str:
            return f"{count + self.start}."

    writer = Numbered()
    for batch in _batches(papers):
        text = writer.formats([ris_record(p, themes.get(p.id)) for p in batch])
        yield ("\n" if writer.start else "") + text  # rispy's blank line between two records
        writer.start += len(batch)


def _batches(papers: Iterable[Paper], size: int = EXPORT_BATCH) -> Iterator[list[Paper]]:
    it = iter(papers)
    while batch := list(itertools.islice(it, size)):
        yield batch


# -- BibTeX -----------------------------------------------------------------------------


def _ascii_word(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]", "", s)


def citation_key(paper: Paper) -> str:
    """``<first author's last name><year><first title word>``, lower-case ASCII, e.g. ``smith2020deep``.

    Falls back to the id's digits when there is no author or title.
    """
    last = ""
    if paper.authors:
        a = paper.authors[0]
        last = a.split(",")[0] if "," in a else (a.split()[-1] if a.split() else "")
    stop = {"a", "an", "the", "on", "of", "in", "for", "and", "to", "with", "from"}
    word = next(
        (w for w in (_ascii_word(w) for w in paper.title.split()) if w and w.lower() not in stop),
        "",
    )
    key = (_ascii_word(last) + (str(paper.year) if paper.year else "") + word).lower()
    return key or _ascii_word(paper.id).lower() or "paper"


_BIB_ESCAPE = str.maketrans({"&": r"\&", "%": r"\%", "#": r"\#"})


def _bib_value(s: str) -> str:
    """One line, LaTeX's special text characters escaped, braces balanced (or dropped)."""
    s = _one_line(s).translate(_BIB_ESCAPE)
    depth = 0
    for ch in s:
        depth += ch == "{"
        depth -= ch == "}"
        if depth < 0:
            break
    if depth != 0:
        s = s.replace("{", "").replace("}", "")
    return s


def bibtex_entry(paper: Paper, key: str, theme: tuple[int, str] | None = None) -> Any:
    """A bibtexparser ``Entry``: ``@article`` with a journal or PMID, arXiv fields for
    preprints, ``@misc`` otherwise."""
    from bibtexparser.model import Entry, Field

    fields: list[tuple[str, str]] = []
    if paper.title:
        fields.append(("title", _bib_value(paper.title)))
    if paper.authors:
        fields.append(("author", " and ".join(_bib_value(a) for a in paper.authors)))
    if paper.year:
        fields.append(("year", str(paper.year)))
    journal = _journal(paper)
    if journal:
        fields.append(("journal", _bib_value(journal)))
    if paper.doi:
        fields.append(("doi", paper.doi))
    if paper.arxiv_id:
        fields += [("eprint", paper.arxiv_id), ("archiveprefix", "arXiv")]
    if paper.pmid:
        fields.append(("pmid", str(paper.pmid)))
    url = _url(paper)
    if url:
        fields.append(("url", url))
    if paper.abstract:
        fields.append(("abstract", _bib_value(paper.abstract)))
    kws = _keywords(paper, theme)
    if kws:
        fields.append(("keywords", ", ".join(_bib_value(k).replace(",", ";") for k in kws)))
    fields.append(("note", f"zsearch id: {_bib_value(paper.id)}"))
    kind = "article" if (journal or paper.pmid) else "misc"
    return Entry(kind, key, [Field(k, v) for k, v in fields])


def to_bibtex(papers: Iterable[Paper], themes: Mapping[str, tuple[int, str]] | None = None) -> str:
    """BibTeX text for ``papers``; citation keys are made unique with a, b, c… suffixes."""
    return "".join(_bibtex_parts(papers, themes or {}))


def _bibtex_parts(papers: Iterable[Paper], themes: Mapping[str, tuple[int, str]]) -> Iterator[str]:
    """BibTeX text batch by batch, citation keys unique across all batches."""
    import bibtexparser
    from bibtexparser.library import Library as BibLibrary

    used: set[str] = set()
    first = True
    for batch in _batches(papers):
        lib = BibLibrary()
        for p in batch:
            base = citation_key(p)
            key, n = base, 0
            while key in used:
                key = f"{base}{_suffix(n)}"
                n += 1
            used.add(key)
            lib.add(bibtex_entry(p, key, themes.get(p.id)))
        yield ("" if first else "\n\n") + bibtexparser.write_string(lib)  # bibtexparser's gap between entries
        first = False


def _suffix(n: int) -> str:
    """0 -> 'a', 25 -> 'z', 26 -> 'aa'."""
    s = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(97 + r) + s
    return s


# -- CSV / JSONL ------------------------------------------------------------------------


def flat_record(paper: Paper, theme: tuple[int, str] | None = None) -> dict[str, Any]:
    """A flat dict of a paper (no full text) with its theme, for CSV and JSONL."""
    return {
        "id": paper.id,
        "title": _one_line(paper.title),
        "authors": list(paper.authors),
        "year": paper.year,
        "doi": paper.doi,
        "pmid": paper.pmid,
        "arxiv_id": paper.arxiv_id,
        "url": _url(paper),
        "source": paper.source,
        "journal": _journal(paper),
        "keywords": _keywords(paper, theme),
        "theme": theme[0] if theme else None,
        "theme_label": theme[1] if theme else None,
        "abstract": paper.abstract,
    }


def to_csv(papers: Iterable[Paper], themes: Mapping[str, tuple[int, str]] | None = None) -> str:
    """CSV with ASReview-compatible columns; list cells are joined with ``"; "``."""
    return "".join(_csv_parts(papers, themes or {}))


def _csv_parts(papers: Iterable[Paper], themes: Mapping[str, tuple[int, str]]) -> Iterator[str]:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    w.writeheader()
    for batch in _batches(papers):
        for p in batch:
            rec = flat_record(p, themes.get(p.id))
            w.writerow(
                {
                    k: "; ".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v)
                    for k, v in rec.items()
                }
            )
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    if buf.tell():  # no papers: the header alone
        yield buf.getvalue()


def to_jsonl(papers: Iterable[Paper], themes: Mapping[str, tuple[int, str]] | None = None) -> str:
    """One JSON object per line (the CSV's fields, lists kept as lists)."""
    return "".join(_jsonl_parts(papers, themes or {}))


def _jsonl_parts(papers: Iterable[Paper], themes: Mapping[str, tuple[int, str]]) -> Iterator[str]:
    for batch in _batches(papers):
        yield "".join(json.dumps(flat_record(p, themes.get(p.id)), ensure_ascii=False) + "\n" for p in batch)


_PARTS = {"bibtex": _bibtex_parts, "ris": _ris_parts, "csv": _csv_parts, "jsonl": _jsonl_parts}


def _check_format(fmt: str) -> None:
    if fmt not in _PARTS:
        raise UsageError(f"unknown export format {fmt!r}; choose one of: {', '.join(EXPORT_FORMATS)}")


def export_papers(
    papers: Sequence[Paper], fmt: str, themes: Mapping[str, tuple[int, str]] | None = None
) -> str:
    """The text of ``papers`` in ``fmt`` (one of :data:`EXPORT_FORMATS`)."""
    _check_format(fmt)
    return "".join(_PARTS[fmt](papers, themes or {}))


def write_export(papers: Iterable[Paper], fmt: str, out: TextIO,
                 themes: Mapping[str, tuple[int, str]] | None = None) -> int:
    """Write ``papers`` in ``fmt`` to ``out`` batch by batch (the bytes of :func:`export_papers`); returns how many."""
    _check_format(fmt)
    counted = _Counted(papers)
    for part in _PARTS[fmt](counted, themes or {}):
        out.write(part)
    return counted.n


def write_export_file(path: Path, papers: Iterable[Paper], fmt: str,
                      themes: Mapping[str, tuple[int, str]] | None = None) -> int:
    """:func:`write_export` into ``path`` via a temporary file beside it, so a failed export leaves no half file."""
    _check_format(fmt)
    if path.exists() and not path.is_file():  # /dev/null, a pipe: written as it is
        with open(path, "w", encoding="utf-8") as fh:
            return write_export(papers, fmt, fh, themes)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            n = write_export(papers, fmt, fh, themes)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return n


class _Counted:
    """An iterable that counts what passed through it."""

    def __init__(self, items: Iterable[Paper]):
        self.items, self.n = items, 0

    def __iter__(self) -> Iterator[Paper]:
        for item in self.items:
            self.n += 1
            yield item


# -- inputs: id lists and cluster results -------------------------------------------------


def _one_line(s: str | None) -> str:
    return re.sub(r"\s+", " ", s or "").strip()
