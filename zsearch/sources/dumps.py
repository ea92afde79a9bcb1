"""Bulk files: the arXiv metadata snapshot (JSON lines) and PubMed baseline/update XML.

Both readers stream: one line or one citation in memory at a time, so a 4 GB snapshot or
a 40 MB baseline file is read at constant memory. A bad line or citation becomes a
:class:`~zsearch.errors.RecordError` naming ``FILE:LINE`` (or the PMID) and reading goes
on; a truncated ``.gz`` or broken XML ends that file with a RecordError after every
record before the fault has been yielded.

PubMed update files end with ``<DeleteCitation>`` blocks: :func:`read_pubmed_xml` yields
them as :class:`Deletion` items, in file order, for the caller to apply.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterable, Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Any

from zsearch.errors import NotFound, RecordError
from zsearch.papers.identity import canonical_id, split_arxiv_version
from zsearch.papers.model import Deletion, Paper, display_title
from zsearch.sources.pubmed import RECORD_TAGS, citation_to_paper
from zsearch.sources.xml import iterparse_safely


def _open(path: Path) -> IO[bytes]:
    """A binary stream of the file, gunzipped when it starts with the gzip magic bytes."""
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        raise NotFound(f"no such file: {path}") from None
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror or exc}") from None
    head = fh.peek(2)[:2] if hasattr(fh, "peek") else b""
    if head == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=fh, mode="rb")  # type: ignore[return-value]
    return fh


_READ_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, OSError)


# --- arXiv metadata snapshot -----------------------------------------------------------------

def _rfc2822_date(value: str) -> str | None:
    try:
        return parsedate_to_datetime(value).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return None


def snapshot_record_to_paper(rec: dict[str, Any]) -> Paper:
    """One Kaggle ``arxiv-metadata-oai-snapshot`` record -> Paper (latest version kept)."""
    aid = str(rec.get("id") or "").strip()
    if not aid:
        raise RecordError("record without an id", record="?")
    base, _ = split_arxiv_version(aid)
    versions = rec.get("versions") or []
    nums = [int(v.get("version", "v0")[1:] or 0) for v in versions if isinstance(v, dict)]
    first = _rfc2822_date(versions[0].get("created", "")) if versions and isinstance(versions[0], dict) else None
    authors = []
    for parts in rec.get("authors_parsed") or []:
        last, firstname = (parts + ["", ""])[:2]
        suffix = parts[2] if len(parts) > 2 else ""
        name = " ".join(x for x in (firstname.strip(), last.strip(), suffix.strip()) if x)
        if name:
            authors.append(name)
    if not authors and rec.get("authors"):
        authors = [a.strip() for a in str(rec["authors"]).replace(" and ", ", ").split(",") if a.strip()]
    published = first or rec.get("update_date")
    extra: dict[str, Any] = {"arxiv_version": max(nums) if nums else 1}
    for key, name in (("journal_ref", "journal-ref"), ("comment", "comments"), ("license", "license"),
                      ("report_no", "report-no")):
        if rec.get(name):
            extra[key] = " ".join(str(rec[name]).split())
    if rec.get("update_date"):
        extra["arxiv_updated"] = rec["update_date"]
    title = display_title(str(rec.get("title") or ""))
    abstract = " ".join(str(rec.get("abstract") or "").split())
    if not title and not abstract:
        raise RecordError("record has neither a title nor an abstract", record=f"arxiv:{base}")
    return Paper(
        id=canonical_id(arxiv_id=base),
        source="arxiv",
        title=title,
        abstract=abstract,
        authors=authors,
        year=int(published[:4]) if published and published[:4].isdigit() else None,
        doi=rec.get("doi") or None,
        arxiv_id=base,
        url=f"https://arxiv.org/abs/{base}",
        categories=str(rec.get("categories") or "").split(),
        published=published,
        extra=extra,
    )


def read_arxiv_dump(path: str | Path) -> Iterator[Paper | RecordError]:
    """Stream the arXiv metadata snapshot (JSON lines, plain or .gz) as Papers."""
    path = Path(path)
    fh = _open(path)
    lineno = 0
    try:
        stream = io.TextIOWrapper(fh, encoding="utf-8", errors="strict")
        while True:
            try:
                line = stream.readline()
            except UnicodeDecodeError as exc:
                yield RecordError(f"not UTF-8 text ({exc.reason})", record=f"{path}:{lineno + 1}")
                return
            except _READ_ERRORS as exc:
                yield RecordError(f"file ends early or is corrupt ({exc.__class__.__name__}: {exc}); "
                                  f"records before line {lineno + 1} were read", record=f"{path}:{lineno + 1}")
                return
            if not line:
                return
            lineno += 1
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                yield RecordError(f"malformed JSON ({exc.msg} at column {exc.colno})", record=where)
                continue
            if not isinstance(rec, dict):
                yield RecordError("a JSON line that is not an object", record=where)
                continue
            try:
                yield snapshot_record_to_paper(rec)
            except RecordError as exc:
                yield RecordError(exc.message, record=f"{where} ({exc.record})")
            except (TypeError, ValueError, AttributeError) as exc:
                yield RecordError(f"unexpected field value ({exc})", record=where)
    finally:
        fh.close()


# --- PubMed / MEDLINE XML ---------------------------------------------------------------------

def read_pubmed_xml(path: str | Path) -> Iterator[Paper | RecordError | Deletion]:
    """Stream a PubMed baseline/update file (.xml or .xml.gz) with iterparse at constant memory.

    Yields a Paper per citation, a RecordError per unreadable one, and a :class:`Deletion`
    per ``<DeleteCitation>`` block, in file order. Entity resolution, DTD loading and
    network access are off.
    """
    from lxml import etree

    path = Path(path)
    fh = _open(path)
    tags = (*RECORD_TAGS, "MedlineCitation", "DeleteCitation")
    last_ok = "the start"
    try:
        ctx = iterparse_safely(fh, tags)
        try:
            for _, el in ctx:
                parent = el.getparent()
                if el.tag == "MedlineCitation" and parent is not None and parent.tag in RECORD_TAGS:
                    continue  # read with its PubmedArticle
                if el.tag == "DeleteCitation":
                    ids = [canonical_id(pmid=p.text.strip()) for p in el.findall("PMID") if p.text and p.text.strip()]
                    yield Deletion(ids=ids, record=str(path))
                else:
                    try:
                        paper = citation_to_paper(el)
                        last_ok = paper.id
                        yield paper
                    except RecordError as exc:
                        yield RecordError(exc.message, record=f"{path}: {exc.record} (line {el.sourceline})")
                # constant memory: drop this element and everything before it
                el.clear(keep_tail=True)
                if parent is not None:
                    while el.getprevious() is not None:
                        del parent[0]
        except etree.XMLSyntaxError as exc:
            yield RecordError(f"malformed XML after {last_ok}: {exc.msg}", record=f"{path}:{exc.lineno}")
        except _READ_ERRORS as exc:
            yield RecordError(f"file ends early or is corrupt ({exc.__class__.__name__}: {exc}); "
                              f"records up to {last_ok} were read", record=str(path))
    finally:
        fh.close()


def read_pubmed_files(paths: Iterable[str | Path]) -> Iterator[Paper | RecordError | Deletion]:
    """Several PubMed files in order (later files' records and deletions win)."""
    for p in paths:
        yield from read_pubmed_xml(p)
