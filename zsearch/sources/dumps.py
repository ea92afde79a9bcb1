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
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Any

from zsearch.errors import NotFound, RecordError
from zsearch.papers.identity import canonical_id, split_arxiv_version
from zsearch.papers.model import Deletion, Paper, display_title
from zsearch.sources.fields import ascii_int, leading_year
from zsearch.sources.pubmed import RECORD_TAGS, read_citation
from zsearch.sources.xml import error_text, iterparse_safely


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
# a snapshot record's id: new-style (0704.0001) or old-style (hep-th/9901001), version optional
_SNAPSHOT_ID_RE = re.compile(r"(?:[0-9]{4}\.[0-9]{4,5}|[a-z][a-z-]+(?:\.[A-Z]{2})?/[0-9]{7})(?:v[0-9]{1,9})?")
_ISO_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# --- arXiv metadata snapshot -----------------------------------------------------------------

def _rfc2822_date(value: str) -> str | None:
    try:
        return parsedate_to_datetime(value).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return None


def _text(rec: dict[str, Any], name: str, record: str) -> str:
    """A text field of a snapshot record ("" when absent or null); another type is a RecordError."""
    value = rec.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordError(f"field {name!r} should be text, not {type(value).__name__}", record=record)
    return value


def _versions(rec: dict[str, Any], record: str) -> tuple[int, str | None]:
    """(latest version number, the first version's date) from ``versions``."""
    versions = rec.get("versions") or []
    if not isinstance(versions, list) or not all(isinstance(v, dict) for v in versions):
        raise RecordError("field 'versions' should be a list of objects", record=record)
    nums = [ascii_int(v["version"][1:]) for v in versions if isinstance(v.get("version"), str)
            and v["version"].startswith("v")]
    created = versions[0].get("created") if versions else None
    first = _rfc2822_date(created) if isinstance(created, str) else None
    return max((n for n in nums if n is not None), default=1), first


def _authors(rec: dict[str, Any], record: str) -> list[str]:
    """Names from ``authors_parsed`` ([last, first, suffix] lists), else split from ``authors``."""
    parsed = rec.get("authors_parsed") or []
    if not isinstance(parsed, list) or not all(isinstance(p, list) and all(isinstance(x, str) for x in p)
                                               for p in parsed):
        raise RecordError("field 'authors_parsed' should be a list of lists of text", record=record)
    authors = []
    for parts in parsed:
        last, firstname = (parts + ["", ""])[:2]
        suffix = parts[2] if len(parts) > 2 else ""
        name = " ".join(x for x in (firstname.strip(), last.strip(), suffix.strip()) if x)
        if name:
            authors.append(name)
    if not authors:
        text = _text(rec, "authors", record)
        authors = [a.strip() for a in text.replace(" and ", ", ").split(",") if a.strip()]
    return authors


def snapshot_record_to_paper(rec: dict[str, Any]) -> Paper:
    """One Kaggle ``arxiv-metadata-oai-snapshot`` record -> Paper (latest version kept).

    A field of the wrong type, or an id that is no arXiv id, is a RecordError naming it.
    """
    aid = rec.get("id")
    if not isinstance(aid, str) or not aid.strip():
        raise RecordError("record without an id", record="?")
    if not _SNAPSHOT_ID_RE.fullmatch(aid.strip()):
        raise RecordError(f"not an arXiv id: {aid[:80]!r}", record="?")
    base, _ = split_arxiv_version(aid)
    record = f"arxiv:{base}"
    version, first = _versions(rec, record)
    authors = _authors(rec, record)
    update_date = _text(rec, "update_date", record).strip()
    if update_date and not _ISO_DATE_RE.fullmatch(update_date):
        update_date = ""  # not a date: neither the publication date nor "updated"
    published = first or update_date or None
    extra: dict[str, Any] = {"arxiv_version": version}
    for key, name in (("journal_ref", "journal-ref"), ("comment", "comments"), ("license", "license"),
                      ("report_no", "report-no")):
        value = _text(rec, name, record)
        if value:
            extra[key] = " ".join(value.split())
    if update_date:
        extra["arxiv_updated"] = update_date
    title = display_title(_text(rec, "title", record))
    abstract = " ".join(_text(rec, "abstract", record).split())
    if not title and not abstract:
        raise RecordError("record has neither a title nor an abstract", record=record)
    return Paper(
        id=canonical_id(arxiv_id=base),
        source="arxiv",
        title=title,
        abstract=abstract,
        authors=authors,
        year=leading_year(published),
        doi=_text(rec, "doi", record) or None,
        arxiv_id=base,
        url=f"https://arxiv.org/abs/{base}",
        categories=_text(rec, "categories", record).split(),
        published=published,
        extra=extra,
    )


def read_arxiv_dump(path: str | Path) -> Iterator[Paper | RecordError]:
    """Stream the arXiv metadata snapshot (JSON lines, plain or .gz) as Papers.

    Each line is decoded and parsed on its own: a line that is not UTF-8, not JSON (nested
    too deep, a number too long) or not a snapshot record is a RecordError naming
    ``FILE:LINE``, and reading goes on. A truncated or corrupt ``.gz`` ends the file with a
    RecordError after every line before the fault.
    """
    path = Path(path)
    fh = _open(path)
    lineno = 0
    try:
        while True:
            try:
                raw = fh.readline()
            except _READ_ERRORS as exc:
                yield RecordError(f"file ends early or is corrupt ({exc.__class__.__name__}: {exc}); "
                                  f"records before line {lineno + 1} were read", record=f"{path}:{lineno + 1}")
                return
            if not raw:
                return
            lineno += 1
            where = f"{path}:{lineno}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield RecordError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", record=where)
                continue
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                yield RecordError(f"malformed JSON ({exc.msg} at column {exc.colno})", record=where)
                continue
            except (ValueError, RecursionError) as exc:  # a 5,000-digit number; brackets nested too deep
                yield RecordError(f"malformed JSON ({' '.join(str(exc).split())[:100]})", record=where)
                continue
            if not isinstance(rec, dict):
                yield RecordError("a JSON line that is not an object", record=where)
                continue
            try:
                yield snapshot_record_to_paper(rec)
            except RecordError as exc:
                yield RecordError(exc.message, record=f"{where} ({exc.record})")
            except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
                # a shape no check above foresaw: this record only, named, with the exception's kind
                yield RecordError(f"unexpected field value ({exc.__class__.__name__}: {exc})", record=where)
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
                    texts = [" ".join((p.text or "").split()) for p in el.findall("PMID")]
                    bad = [t for t in texts if ascii_int(t) is None]
                    if bad:
                        yield RecordError(f"<DeleteCitation> lists {len(bad)} PMID(s) that are not numbers "
                                          f"(first {bad[0][:20]!r}); the others are deleted",
                                          record=f"{path}:{el.sourceline}")
                    ids = [canonical_id(pmid=t) for t in texts if ascii_int(t) is not None]
                    yield Deletion(ids=ids, record=str(path))
                else:
                    paper = read_citation(el)
                    if isinstance(paper, RecordError):
                        yield RecordError(paper.message, record=f"{path}: {paper.record} (line {el.sourceline})")
                    else:
                        last_ok = paper.id
                        yield paper
                # constant memory: drop this element and everything before it
                el.clear(keep_tail=True)
                if parent is not None:
                    while el.getprevious() is not None:
                        del parent[0]
        except etree.XMLSyntaxError as exc:
            yield RecordError(f"malformed XML after {last_ok}: {error_text(exc)}", record=f"{path}:{exc.lineno}")
        except _READ_ERRORS as exc:
            yield RecordError(f"file ends early or is corrupt ({exc.__class__.__name__}: {exc}); "
                              f"records up to {last_ok} were read", record=str(path))
    finally:
        fh.close()


def read_pubmed_files(paths: Iterable[str | Path]) -> Iterator[Paper | RecordError | Deletion]:
    """Several PubMed files in order (later files' records and deletions win)."""
    for p in paths:
        yield from read_pubmed_xml(p)
