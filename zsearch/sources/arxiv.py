"""arXiv API source: Atom feeds -> :class:`~zsearch.papers.model.Paper`.

Follows arXiv's API terms (https://info.arxiv.org/help/api/tou.html): one request every
3 seconds at most, over one connection, pages of at most 2,000 results. A page that comes
back empty although the feed says more results exist is fetched again (arXiv sometimes
answers a page with no entries spuriously). An id arXiv rejects (its HTTP 400 error feed)
becomes a :class:`~zsearch.errors.RecordError` naming the id; the other ids still load.

The Atom parser reads both the 2016 feed format (``opensearch:`` declared inline) and the
current one, with lxml, entity resolution and network access off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from zsearch.errors import RecordError, SourceError, UsageError
from zsearch.papers.identity import ARXIV_NEW_RE, ARXIV_OLD_RE, canonical_id, split_arxiv_version
from zsearch.papers.model import Paper, display_title
from zsearch.sources.fields import ascii_int, leading_year
from zsearch.sources.http import PoliteClient
from zsearch.sources.xml import parse_xml

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"

# arXiv API terms of use: "no more than one request every three seconds"
ARXIV_INTERVAL = 3.0
# results per request; arxiv.py's Client uses 100 (arXiv allows up to 2,000 per call)
ARXIV_PAGE_SIZE = 100
# arXiv's hard cap on max_results per call (API user manual, section 3.1.1)
ARXIV_MAX_PAGE = 2000
# retries of a page that comes back empty although results remain (arxiv.py retries 3 times)
EMPTY_PAGE_RETRIES = 3

_ID_RE = re.compile(rf"^(?:{ARXIV_NEW_RE.pattern}|{ARXIV_OLD_RE.pattern})$")
# an entry's id after "arxiv.org/abs/": a new- or old-style id, version at most 9 digits
_ENTRY_ID_RE = re.compile(r"(?:[0-9]{4}\.[0-9]{4,5}|[a-z][a-z-]+(?:\.[A-Z]{2})?/[0-9]{7})(?:v[0-9]{1,9})?")


def arxiv_client(*, interval: float = ARXIV_INTERVAL, **kw: Any) -> PoliteClient:
    """The rate-limited client arXiv's terms ask for (tests pass a shorter ``interval``)."""
    return PoliteClient("arXiv", interval=interval, **kw)


def _text(el: Any, path: str) -> str:
    node = el.find(path)
    if node is None:
        return ""
    return "".join(node.itertext()).strip()


def _collapse(s: str) -> str:
    return re.sub(r"\s+", " ", s or "").strip()


def entry_to_paper(entry: Any) -> Paper:
    """One Atom ``<entry>`` -> Paper (version kept in ``extra["arxiv_version"]``)."""
    raw_id = _text(entry, f"{ATOM}id")
    m = re.search(r"arxiv\.org/abs/(.+)$", raw_id)
    if not m or not _ENTRY_ID_RE.fullmatch(m.group(1)):
        raise RecordError(f"arXiv entry with an unexpected id {raw_id[:200]!r}", record=raw_id[:200] or "?")
    base, version = split_arxiv_version(m.group(1))
    published = _text(entry, f"{ATOM}published")
    updated = _text(entry, f"{ATOM}updated")
    pdf_url = None
    for link in entry.findall(f"{ATOM}link"):
        if link.get("title") == "pdf" or link.get("type") == "application/pdf":
            pdf_url = link.get("href")
    primary = entry.find(f"{ARXIV}primary_category")
    cats = [c.get("term") for c in entry.findall(f"{ATOM}category") if c.get("term")]
    if primary is not None and primary.get("term"):
        cats = [primary.get("term"), *[c for c in cats if c != primary.get("term")]]
    extra: dict[str, Any] = {"arxiv_version": version or 1}
    for key, path in (("comment", f"{ARXIV}comment"), ("journal_ref", f"{ARXIV}journal_ref")):
        val = _collapse(_text(entry, path))
        if val:
            extra[key] = val
    if updated:
        extra["arxiv_updated"] = updated
    if pdf_url:
        extra["pdf_url"] = pdf_url
    year = leading_year(published)
    return Paper(
        id=canonical_id(arxiv_id=base),
        source="arxiv",
        title=display_title(_text(entry, f"{ATOM}title")),
        abstract=_collapse(_text(entry, f"{ATOM}summary")),
        authors=[_collapse(_text(a, f"{ATOM}name")) for a in entry.findall(f"{ATOM}author")],
        year=year,
        doi=_text(entry, f"{ARXIV}doi") or None,
        arxiv_id=base,
        url=f"https://arxiv.org/abs/{base}",
        categories=list(dict.fromkeys(cats)),
        published=published[:10] or None,
        extra=extra,
    )


# exceptions a record of unforeseen shape can raise in a parser: that record becomes a
# RecordError naming the exception's kind, and the records beside it are still read
UNFORESEEN = (TypeError, ValueError, AttributeError, KeyError, IndexError)


def read_entry(entry: Any) -> Paper | RecordError:
    """:func:`entry_to_paper`, with an unreadable entry returned as its RecordError instead of raised."""
    try:
        return entry_to_paper(entry)
    except RecordError as exc:
        return exc
    except UNFORESEEN as exc:
        raw_id = _text(entry, f"{ATOM}id")[:200]
        return RecordError(f"unreadable arXiv entry ({exc.__class__.__name__}: {' '.join(str(exc).split())[:200]})",
                           record=raw_id or "?")


class Feed:
    """One parsed Atom page: total results, entries, and arXiv's error message if any."""

    def __init__(self, total: int | None, entries: list[Any], error: str | None):
        self.total = total
        self.entries = entries
        self.error = error


def parse_feed(data: bytes, *, what: str = "arXiv feed") -> Feed:
    """Parse an Atom page; an arXiv error feed (entry id ``.../api/errors#...``) sets ``error``."""
    root = parse_xml(data, what=what)
    if root.tag != f"{ATOM}feed":
        raise SourceError(f"{what}: not an Atom feed (root element {root.tag!r})")
    total = ascii_int(_text(root, f"{OPENSEARCH}totalResults"))
    entries = root.findall(f"{ATOM}entry")
    error = None
    if len(entries) == 1 and "/api/errors" in _text(entries[0], f"{ATOM}id"):
        error = _collapse(_text(entries[0], f"{ATOM}summary")) or "error"
        entries = []
    return Feed(total, entries, error)


def parse_papers(data: bytes, *, what: str = "arXiv feed") -> list[Paper | RecordError]:
    """Every entry of a feed as Paper (or RecordError for an entry that cannot be read)."""
    feed = parse_feed(data, what=what)
    if feed.error:
        raise SourceError(f"{what}: arXiv answered with an error: {feed.error}")
    return [read_entry(e) for e in feed.entries]


def check_arxiv_id(arxiv_id: str) -> bool:
    """Whether ``arxiv_id`` looks like a new-style (``2401.01234v2``) or old-style (``hep-th/9901001``) id."""
    return bool(_ID_RE.match(arxiv_id.strip()))


def _version_of(p: Paper) -> int:
    return int(p.extra.get("arxiv_version") or 0)


def collapse_versions(papers: Iterable[Paper | RecordError]) -> list[Paper | RecordError]:
    """Keep one Paper per arXiv id, the latest version; RecordErrors pass through in order."""
    best: dict[str, Paper] = {}
    order: list[Any] = []
    for p in papers:
        if isinstance(p, RecordError):
            order.append(p)
            continue
        if p.id not in best:
            order.append(p.id)
            best[p.id] = p
        elif _version_of(p) > _version_of(best[p.id]):
            best[p.id] = p
    return [best[x] if isinstance(x, str) else x for x in order]


class ArxivSource:
    """Search or look up arXiv through its API; iterate to get Papers and RecordErrors."""

    def __init__(self, client: PoliteClient, url: str, *, page_size: int = ARXIV_PAGE_SIZE,
                 empty_page_retries: int = EMPTY_PAGE_RETRIES) -> None:
        if not 1 <= page_size <= ARXIV_MAX_PAGE:
            raise UsageError(f"arXiv page size must be 1..{ARXIV_MAX_PAGE}, not {page_size}")
        self.client = client
        self.url = url
        self.page_size = page_size
        self.empty_page_retries = empty_page_retries
        self.pages = 0  # pages fetched (retries not counted)
        self.truncated = False  # the last search() stopped at max_results while more results remained

    def _fetch(self, params: dict[str, Any], what: str) -> Feed:
        resp = self.client.get(self.url, params=params, what=what)
        if resp.status_code >= 400 and resp.status_code != 400:
            raise SourceError(f"arXiv: {what} failed: HTTP {resp.status_code}")
        feed = parse_feed(resp.content, what=f"arXiv {what}")
        if resp.status_code == 400 and not feed.error:
            raise SourceError(f"arXiv: {what} was rejected (HTTP 400)")
        self.pages += 1
        return feed

    def search(self, query: str, *, max_results: int | None = None, since: date | None = None) -> Iterator[Paper | RecordError]:
        """Papers matching ``query`` (arXiv query syntax), paged; newest first when ``since`` is set.

        With ``since``, results are sorted by submission date (newest first) and the
        search stops at the first paper submitted before ``since``.
        """
        if not query.strip():
            raise UsageError("the arXiv query is empty")
        if max_results is not None and max_results < 1:
            raise UsageError("--max must be at least 1")
        start = 0
        got = 0
        total: int | None = None
        sort_by, order = ("submittedDate", "descending") if since else ("relevance", "descending")
        since_iso = since.isoformat() if since else None
        self.truncated = False
        while max_results is None or got < max_results:
            n = self.page_size if max_results is None else min(self.page_size, max_results - got)
            params = {"search_query": query, "id_list": "", "sortBy": sort_by, "sortOrder": order,
                      "start": start, "max_results": n}
            what = f"page start={start} of query {query!r}"
            feed = self._fetch(params, what)
            if feed.error:
                raise SourceError(f"arXiv rejected query {query!r}: {feed.error}")
            if total is None:
                total = feed.total  # the first page's count holds: later empty pages may claim 0
            tries = 0
            while not feed.entries and total is not None and start < total and tries < self.empty_page_retries:
                tries += 1  # spuriously empty page: arXiv said more results exist
                feed = self._fetch(params, what)
            if not feed.entries:
                if total is not None and start < total:
                    raise SourceError(
                        f"arXiv: {what} came back empty {tries + 1} times although {total} results exist",
                        hint="everything before this page was kept; run the command again later",
                    )
                return
            for i, e in enumerate(feed.entries):
                p = read_entry(e)
                if isinstance(p, RecordError):
                    yield p
                    continue
                if since_iso and p.published and p.published < since_iso:
                    return
                yield p
                got += 1
                if max_results is not None and got >= max_results:
                    # cut short if the next entry on this page is new enough, or pages remain
                    rest = feed.entries[i + 1:]
                    if rest:
                        nxt = _text(rest[0], f"{ATOM}published")[:10]
                        self.truncated = not since_iso or not nxt or nxt >= since_iso
                    else:
                        self.truncated = total is not None and start + len(feed.entries) < total
                    return
            start += len(feed.entries)
            if total is not None and start >= total:
                return

    def count(self, query: str, *, since: date | None = None) -> int:
        """How many papers match ``query`` (submitted on or after ``since``): one request.

        The date is folded into the query as ``submittedDate:[YYYYMMDD0000 TO 999912312359]``
        (arXiv API user manual, section 5.1), the field ``search`` stops at.
        """
        if since:
            query = f"({query}) AND submittedDate:[{since:%Y%m%d}0000 TO 999912312359]"
        params = {"search_query": query, "id_list": "", "sortBy": "relevance", "sortOrder": "descending",
                  "start": 0, "max_results": 1}
        feed = self._fetch(params, f"count of query {query!r}")
        if feed.error:
            raise SourceError(f"arXiv rejected query {query!r}: {feed.error}")
        if feed.total is None:
            raise SourceError(f"arXiv: the answer to the count of {query!r} gives no total")
        return feed.total

    def lookup(self, ids: Sequence[str]) -> Iterator[Paper | RecordError]:
        """Papers by arXiv id (with or without version); unknown or malformed ids -> RecordError.

        Versions of one paper collapse to the latest one asked for.
        """
        wanted = [i.strip() for i in ids if i.strip()]
        for i in range(0, len(wanted), self.page_size):
            chunk = wanted[i:i + self.page_size]
            yield from collapse_versions(self._lookup_chunk(chunk))

    def _lookup_chunk(self, chunk: list[str]) -> Iterator[Paper | RecordError]:
        pending = list(dict.fromkeys(chunk))
        while pending:
            params = {"search_query": "", "id_list": ",".join(pending), "sortBy": "relevance",
                      "sortOrder": "descending", "start": 0, "max_results": self.page_size}
            what = f"look-up of {', '.join(pending[:3])}{' …' if len(pending) > 3 else ''}"
            feed = self._fetch(params, what)
            if feed.error:
                bad = _id_named_in(feed.error, pending)
                if bad is None:
                    raise SourceError(f"arXiv rejected the {what}: {feed.error}")
                yield RecordError(f"arXiv rejected id {bad!r}: {feed.error}", record=bad)
                pending.remove(bad)
                continue
            found: set[str] = set()
            for e in feed.entries:
                p = read_entry(e)
                if isinstance(p, RecordError):
                    yield p
                    continue
                found.add(p.arxiv_id or "")
                found.add(f"{p.arxiv_id}v{_version_of(p)}")
                yield p
            for want in pending:
                base, ver = split_arxiv_version(want)
                if (want if ver else base) not in found:
                    yield RecordError(f"arXiv has no paper {want!r}", record=want)
            return


def _id_named_in(message: str, ids: Sequence[str]) -> str | None:
    """Which of ``ids`` an arXiv error message ("incorrect id format for abc") is about."""
    for i in sorted(ids, key=len, reverse=True):
        if re.search(rf"(?<![\w./-]){re.escape(i)}(?![\w./-])", message):
            return i
    if len(ids) == 1:
        return ids[0]
    return None


def pdf_file_name(p: Paper) -> str:
    """File name for an arXiv paper's PDF: ``2401.01234v2.pdf``; old-style ``/`` becomes ``_``."""
    return f"{(p.arxiv_id or p.id).replace('/', '_')}v{_version_of(p) or 1}.pdf"


def with_full_text(
    papers: Iterable[Paper | RecordError], client: PoliteClient, dest: Path
) -> Iterator[Paper | RecordError]:
    """Fetch each paper's PDF (through ``client``, so rate limits hold) into ``dest`` and add its body.

    The record's metadata and abstract are kept; the PDF's text becomes ``full_text`` and
    ``"pdf"`` joins the paper's sources. A PDF that cannot be fetched or read is reported
    as a RecordError and the paper is still yielded without a body.
    """
    from zsearch.sources.pdf.reader import read_pdf

    dest.mkdir(parents=True, exist_ok=True)
    for p in papers:
        if isinstance(p, RecordError):
            yield p
            continue
        url = p.extra.get("pdf_url") or f"https://arxiv.org/pdf/{p.arxiv_id}v{_version_of(p) or 1}"
        path = dest / pdf_file_name(p)
        try:
            if not path.exists() or path.stat().st_size == 0:
                resp = client.get(url, what=f"PDF of {p.arxiv_id}")
                if resp.status_code != 200:
                    raise RecordError(f"PDF of arXiv {p.arxiv_id}: HTTP {resp.status_code}", record=p.id)
                tmp = path.with_suffix(".part")
                tmp.write_bytes(resp.content)
                tmp.replace(path)
            body = read_pdf(path)
        except (RecordError, SourceError) as exc:
            yield RecordError(f"{exc.message} (kept the record without full text)", record=p.id)
            yield p
            continue
        text = body.full_text if isinstance(body, Paper) else str(body)
        yield replace(p, full_text=text, path=str(path), sources=[*p.sources, "pdf"])
