"""Records from reference managers (Zotero, BibTeX): their identifiers, dates and attached PDFs.

Shared by zsearch.sources.zotero and zsearch.sources.bibtex: the best identifier of a record
(arXiv id, PMID, DOI, also from Zotero's Extra lines), its date, the full text of its first
readable attached PDF, and a safe copy of a live SQLite file.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from zsearch.errors import LockBusy, RecordError, SourceError
from zsearch.papers.identity import ARXIV_NEW_RE, ARXIV_OLD_RE, canonical_id
from zsearch.papers.model import Paper
from zsearch.sources.pdf.reader import read_pdf

_SQL_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:\s|$)")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_EXTRA_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z ]{0,30}?)\s*:\s*(\S.*?)\s*$")
_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/([^\s?#]+?)(?:\.pdf)?/?$", re.IGNORECASE)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)


def _arxiv_id(value: str | None) -> str | None:
    v = re.sub(r"^arxiv:\s*", "", (value or "").strip(), flags=re.IGNORECASE)
    v = re.sub(r"v\d+$", "", v)
    ok = re.fullmatch(ARXIV_NEW_RE.pattern, v) or re.fullmatch(ARXIV_OLD_RE.pattern, v)
    return v if v and ok else None


def parse_extra(text: str | None) -> dict[str, str]:
    """Zotero's Extra field as ``{lower-cased key: value}`` from its ``Key: value`` lines."""
    out: dict[str, str] = {}
    for line in (text or "").splitlines():
        m = _EXTRA_LINE.match(line)
        if m:
            out.setdefault(m.group(1).strip().lower(), m.group(2))
    return out


def zotero_date(value: str | None) -> tuple[int | None, str | None]:
    """Zotero's stored date -> ``(year, ISO date as precise as given)``.

    Zotero stores ``"2020-07-00 July 2020"``: an SQL date with ``00`` for unknown parts, then
    the text as typed; ``0000-00-00`` when it could not parse the text.
    """
    v = (value or "").strip()
    m = _SQL_DATE.match(v)
    if m and m.group(1) != "0000":
        y, mo, d = m.groups()
        return int(y), y if mo == "00" else (f"{y}-{mo}" if d == "00" else f"{y}-{mo}-{d}")
    ym = _YEAR.search(v[10:] if m else v)
    return (int(ym.group(1)), ym.group(1)) if ym else (None, None)


def identifiers(fields: Mapping[str, str]) -> dict[str, str | None]:
    """arXiv id, PMID, PMCID and DOI of an item from its fields and its Extra lines."""
    extra = parse_extra(fields.get("extra"))
    doi = fields.get("DOI") or extra.get("doi")
    arxiv = (_arxiv_id(extra.get("arxiv")) or _arxiv_id(extra.get("arxiv id"))
             or _arxiv_id(fields.get("archiveID")))
    if not arxiv and fields.get("url"):
        m = _ARXIV_URL.search(fields["url"])
        arxiv = _arxiv_id(m.group(1)) if m else None
    if not arxiv and doi and _ARXIV_DOI.match(doi):
        arxiv = _arxiv_id(_ARXIV_DOI.match(doi).group(1))  # type: ignore[union-attr]
    pmid = extra.get("pmid") if (extra.get("pmid") or "").isdigit() else None
    return {"arxiv_id": arxiv, "pmid": pmid, "doi": doi, "pmcid": extra.get("pmcid"),
            "citation_key": extra.get("citation key")}


def paper_id(ids: Mapping[str, str | None], fallback: str) -> str:
    """``canonical_id`` from the best identifier, else ``fallback`` (``zotero:KEY``, ``bibtex:KEY``)."""
    if ids.get("arxiv_id") or ids.get("pmid") or ids.get("doi"):
        return canonical_id(arxiv_id=ids.get("arxiv_id"), pmid=ids.get("pmid"), doi=ids.get("doi"))
    return fallback


def read_attached_pdfs(paper: Paper, pdfs: Sequence[tuple[Path, str]]) -> tuple[Paper, list[RecordError]]:
    """``paper`` with the full text of the first readable PDF in ``pdfs`` (``(path, record)`` pairs).

    The record's own metadata stays; the PDF fills only gaps (abstract, title, authors, year).
    When no PDF could be read, each failure comes back as a RecordError (``.record`` is the
    given record) saying the paper is stored from its metadata; when one was read, the others'
    failures are not reported (a stale duplicate attachment does not fail a run).
    """
    errors: list[RecordError] = []
    for path, record in pdfs:
        if not path.is_file():
            hint = ("a path relative to Zotero's Linked Attachment Base Directory: give that directory"
                    if str(path).startswith("attachments:") else None)
            errors.append(RecordError(f"attached PDF not found: {path}; stored from its metadata",
                                      record=record, hint=hint))
            continue
        try:
            pdf = read_pdf(path)
        except RecordError as exc:
            errors.append(RecordError(f"attached PDF {path}: {exc.message}; stored from its metadata", record=record))
            continue
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
            errors.append(RecordError(f"attached PDF {path} is not readable ({type(exc).__name__}); "
                                      "stored from its metadata", record=record))
            continue
        extra = {**paper.extra, "file_sha256": pdf.extra.get("file_sha256")}
        return replace(
            paper, full_text=pdf.full_text, path=str(pdf.path), extra=extra,
            abstract=paper.abstract or pdf.abstract, title=paper.title or pdf.title,
            authors=paper.authors or pdf.authors, year=paper.year or pdf.year,
        ), []
    return paper, errors


def snapshot_sqlite(db_path: Path, into: Path, *, tries: int, wait: float) -> Path:
    """Copy a live SQLite file (and its ``-journal``/``-wal``) into ``into``, unchanged while copied."""
    name = db_path.name
    names = [name, name + "-journal", name + "-wal"]

    def stats() -> list[tuple[str, int, int]]:
        out = []
        for n in names:
            try:
                st = (db_path.parent / n).stat()
            except FileNotFoundError:
                continue
            out.append((n, st.st_size, st.st_mtime_ns))
        return out

    for attempt in range(tries):
        before = stats()
        try:
            for n in names:
                (into / n).unlink(missing_ok=True)
                if any(s[0] == n for s in before):
                    shutil.copyfile(db_path.parent / n, into / n)
        except FileNotFoundError:
            pass  # a journal deleted while copying: the file changed, copy again
        except OSError as exc:
            raise SourceError(f"cannot copy {db_path}: {exc.strerror or exc}") from exc
        if stats() == before:
            return into / name
        time.sleep(wait * (attempt + 1))
    raise LockBusy(f"{db_path} kept changing while it was copied (Zotero is writing to it)",
                   hint="try again in a minute")

