"""PubMed source: NCBI E-utilities (esearch + efetch) and the PubMed/MEDLINE XML record parser.

The record parser (:func:`citation_to_paper`) is shared with the bulk-file reader in
:mod:`zsearch.sources.dumps`: it reads a ``<PubmedArticle>`` (efetch, current baseline
and update files) or a bare ``<MedlineCitation>`` (2016-and-older MEDLINE baseline files).

The E-utilities client follows NCBI's usage rules
(https://www.ncbi.nlm.nih.gov/books/NBK25497/): at most 3 requests a second (10 with an
API key), ``tool`` and ``email`` on every request, the search result kept on NCBI's
history server (``usehistory=y``) and fetched in batches through ``WebEnv``/``query_key``.
ESearch returns at most 10,000 records of one search, so larger searches are split into
date ranges that each fit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

from zsearch.errors import RecordError, SourceError, UsageError
from zsearch.papers.identity import canonical_id
from zsearch.papers.model import Paper, display_title
from zsearch.sources.fields import ascii_int
from zsearch.sources.http import PoliteClient
from zsearch.sources.xml import parse_xml

# NCBI: "no more than 3 requests per second" without an API key, 10 with one
NCBI_INTERVAL = 1 / 3
NCBI_INTERVAL_WITH_KEY = 1 / 10
# records per efetch call; NCBI recommends batches of at most 500 for XML efetch
EFETCH_BATCH = 500
# ESearch cannot page past the first 10,000 records of one search (NCBI, 2022 change)
ESEARCH_CAP = 10_000
# sent as `tool=` on every call, as NCBI asks
NCBI_TOOL = "zsearch"
# date field for --since and range splitting: Entrez date (when the record entered PubMed),
# so a nightly `--since yesterday` sees every new record, however old its publication date
DATE_TYPE = "edat"
# earliest date a range split starts from (PubMed's oldest records are from the 1780s)
EARLIEST = date(1780, 1, 1)

_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}


# --- record parsing -----------------------------------------------------------------------

def _txt(el: Any) -> str:
    """All text inside an element (inline markup such as <i>, <sup> flattened), white space collapsed."""
    if el is None:
        return ""
    return " ".join("".join(el.itertext()).split())


def _month(value: str) -> int | None:
    v = value.strip().lower()
    if v[:1].isdigit():
        return ascii_int(v, lo=1, hi=12)
    return _MONTHS.get(v[:3])


def _date_parts(el: Any) -> tuple[int | None, int | None, int | None]:
    """(year, month, day) from a PubDate/ArticleDate element, MedlineDate included."""
    if el is None:
        return None, None, None
    y = ascii_int(el.findtext("Year"))
    if y is not None:
        m = _month(el.findtext("Month") or "") if el.findtext("Month") else None
        d = ascii_int(el.findtext("Day"), lo=1, hi=31) if m else None
        return y, m, d
    md = el.findtext("MedlineDate") or ""
    m = re.match(r"\s*([0-9]{4})(?:\s+([A-Za-z]{3}))?", md)
    if m:
        return int(m.group(1)), _month(m.group(2)) if m.group(2) else None, None
    return None, None, None


def _iso(y: int | None, m: int | None, d: int | None) -> str | None:
    if y is None:
        return None
    if m is None:
        return f"{y:04d}"
    if d is None:
        return f"{y:04d}-{m:02d}"
    return f"{y:04d}-{m:02d}-{d:02d}"


def _author_name(a: Any) -> str:
    coll = a.findtext("CollectiveName")
    if coll:
        return _txt(a.find("CollectiveName"))
    last = (a.findtext("LastName") or "").strip()
    fore = (a.findtext("ForeName") or a.findtext("FirstName") or a.findtext("Initials") or "").strip()
    return f"{fore} {last}".strip()


def _unbracket(title: str) -> str:
    """MEDLINE brackets titles translated into English: ``[Treatment of sepsis in children].``.

    The brackets and the full stop go only when the opening bracket closes just before
    the full stop: ``[18F]FDG uptake in [the liver].`` keeps its brackets.

    >>> _unbracket("[Treatment of sepsis in children]."), _unbracket("[18F]FDG uptake in [the liver].")
    ('Treatment of sepsis in children', '[18F]FDG uptake in [the liver].')
    """
    if not (title.startswith("[") and title.endswith("].")):
        return title
    depth = 0
    for i, ch in enumerate(title):
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if depth == 0:
            return title[1:-2] if i == len(title) - 2 else title
    return title


def _text_or_none(value: str | None) -> str | None:
    return value.strip() or None if value else None


def abstract_sections(abstract: Any) -> list[dict[str, str]]:
    """Each ``<AbstractText>`` as {label, category, text}; label and category may be empty."""
    if abstract is None:
        return []
    out = []
    for at in abstract.findall("AbstractText"):
        text = _txt(at)
        if text:
            out.append({"label": (at.get("Label") or "").strip(), "category": (at.get("NlmCategory") or "").strip(),
                        "text": text})
    return out


def join_sections(sections: list[dict[str, str]]) -> str:
    """Structured abstract as text, labels kept: ``"PURPOSE: …\\nMETHODS: …"``."""
    return "\n".join(f"{s['label']}: {s['text']}" if s["label"] else s["text"] for s in sections)


def citation_to_paper(el: Any) -> Paper:
    """A ``<PubmedArticle>``, ``<PubmedBookArticle>`` or ``<MedlineCitation>`` element -> Paper.

    Raises :class:`RecordError` (``.record`` = ``pmid:N``) for a record with no PMID or
    with neither title nor abstract. A record with a title and no abstract is kept.
    """
    tag = el.tag
    if tag == "MedlineCitation":
        cit, data = el, None
    elif tag == "PubmedBookArticle":
        cit, data = el.find("BookDocument"), el.find("PubmedBookData")
    else:
        cit, data = el.find("MedlineCitation"), el.find("PubmedData")
    if cit is None:
        raise RecordError(f"<{tag}> without a citation", record="?")
    pmid_el = cit.find("PMID")
    pmid = (pmid_el.text or "").strip() if pmid_el is not None else ""
    if ascii_int(pmid) is None:
        raise RecordError(f"<{tag}> without a PMID", record="?")
    record = f"pmid:{pmid}"
    art = cit.find("Article") if tag != "PubmedBookArticle" else cit
    if art is None:
        raise RecordError("citation without an <Article>", record=record)
    title = _txt(art.find("ArticleTitle")) or _txt(art.find("VernacularTitle")) or _txt(art.find("Book/BookTitle"))
    title = _unbracket(title.strip())
    sections = abstract_sections(art.find("Abstract"))
    abstract = join_sections(sections)
    if not title and not abstract:
        raise RecordError("record has neither a title nor an abstract", record=record)

    journal = art.find("Journal")
    issue = journal.find("JournalIssue") if journal is not None else None
    y, m, d = _date_parts(issue.find("PubDate") if issue is not None else None)
    ay, am, ad = _date_parts(art.find("ArticleDate"))
    if y is None and tag == "PubmedBookArticle":
        y, m, d = _date_parts(art.find("Book/PubDate"))
    # the most precise date: the issue's date when complete, else the electronic one
    if d is None and ay is not None and ad is not None and (y is None or ay == y):
        published = _iso(ay, am, ad)
    else:
        published = _iso(y, m, d) or _iso(ay, am, ad)
    year = y or ay

    doi = None
    pmcid = None
    if data is not None:
        for aid in data.findall("ArticleIdList/ArticleId"):
            kind = (aid.get("IdType") or "").lower()
            if kind == "doi" and not doi:
                doi = (aid.text or "").strip() or None
            elif kind == "pmc" and not pmcid:
                pmcid = (aid.text or "").strip() or None
    if not doi:
        for loc in art.findall("ELocationID"):
            if (loc.get("EIdType") or "").lower() == "doi":
                doi = (loc.text or "").strip() or None
                break
    if not pmcid:
        for oid in cit.findall("OtherID"):
            mm = re.match(r"\s*(PMC\d+)", oid.text or "")
            if mm:
                pmcid = mm.group(1)
                break

    authors = [n for n in (_author_name(a) for a in art.findall("AuthorList/Author")) if n]
    mesh = [_txt(h.find("DescriptorName")) for h in cit.findall("MeshHeadingList/MeshHeading")]
    mesh = [x for x in mesh if x]
    pub_types = [_txt(p) for p in art.findall("PublicationTypeList/PublicationType")]
    keywords = [_txt(k) for k in cit.findall("KeywordList/Keyword")]
    extra: dict[str, Any] = {"pmid_version": ascii_int(pmid_el.get("Version"), lo=1) or 1}
    if journal is not None:
        jt = _txt(journal.find("Title"))
        if jt:
            extra["journal"] = jt
        ja = _txt(journal.find("ISOAbbreviation"))
        if ja:
            extra["journal_abbrev"] = ja
        if issue is not None:
            for key, name in (("volume", "Volume"), ("issue", "Issue")):
                v = _txt(issue.find(name))
                if v:
                    extra[key] = v
    pages = _txt(art.find("Pagination/MedlinePgn"))
    if pages:
        extra["pages"] = pages
    if pmcid:
        extra["pmcid"] = pmcid
    if pub_types:
        extra["publication_types"] = [p for p in pub_types if p]
    if any(s["label"] for s in sections):
        extra["abstract_sections"] = sections
    if keywords:
        extra["keywords"] = [k for k in keywords if k]
    if not abstract:
        extra["no_abstract"] = True
    revised = _date_parts(cit.find("DateRevised"))
    if revised[0]:
        extra["date_revised"] = _iso(*revised)
    return Paper(
        id=canonical_id(pmid=pmid),
        source="pubmed",
        title=display_title(title),
        abstract=abstract,
        authors=authors,
        year=year,
        doi=doi,
        pmid=pmid,
        url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/",
        categories=list(dict.fromkeys(mesh)),
        published=published,
        extra=extra,
    )


RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle")
# exceptions a record of unforeseen shape can raise in the parser: that record becomes a
# RecordError naming the exception's kind, and the records beside it are still read
UNFORESEEN = (TypeError, ValueError, AttributeError, KeyError, IndexError)


def read_citation(el: Any) -> Paper | RecordError:
    """:func:`citation_to_paper`, with an unreadable record returned as its RecordError instead of raised."""
    try:
        return citation_to_paper(el)
    except RecordError as exc:
        return exc
    except UNFORESEEN as exc:
        pmid = " ".join((el.findtext("MedlineCitation/PMID") or el.findtext("PMID") or "").split())[:20]
        return RecordError(f"unreadable PubMed record ({exc.__class__.__name__}: {' '.join(str(exc).split())[:200]})",
                           record=f"pmid:{pmid}" if pmid else "?")


def parse_efetch(data: bytes, *, what: str = "efetch response") -> list[Paper | RecordError]:
    """Every record of a ``<PubmedArticleSet>`` (efetch XML) as Paper or RecordError."""
    root = parse_xml(data, what=what)
    if root.tag == "eFetchResult" or root.find("ERROR") is not None:
        raise SourceError(f"PubMed {what}: {_txt(root.find('ERROR')) or 'error'}")
    return [read_citation(el) for el in root if el.tag in RECORD_TAGS or el.tag == "MedlineCitation"]


# --- E-utilities client ---------------------------------------------------------------------

def pubmed_client(*, api_key: str | None = None, interval: float | None = None, **kw: Any) -> PoliteClient:
    """The client NCBI's rules ask for: 3 requests/s, or 10/s with an API key."""
    if interval is None:
        interval = NCBI_INTERVAL_WITH_KEY if api_key else NCBI_INTERVAL
    return PoliteClient("PubMed", interval=interval, **kw)


def plan_date_ranges(count: Callable[[date, date], int], lo: date, hi: date,
                     cap: int = ESEARCH_CAP) -> list[tuple[date, date, int]]:
    """Split ``[lo, hi]`` into consecutive date ranges whose ``count`` fits under ``cap``.

    Halves a range until it fits; a single day that still exceeds the cap is returned as
    is (the caller reports what it cannot fetch). Ranges with no records are dropped.
    """
    out: list[tuple[date, date, int]] = []
    stack = [(lo, hi)]
    while stack:
        a, b = stack.pop()
        n = count(a, b)
        if n == 0:
            continue
        if n <= cap or a >= b:
            out.append((a, b, n))
            continue
        mid = a + timedelta(days=(b - a).days // 2)
        stack.append((mid + timedelta(days=1), b))
        stack.append((a, mid))
    return out


class PubmedSource:
    """Search PubMed and fetch the records; iterate to get Papers and RecordErrors."""

    def __init__(self, client: PoliteClient, base_url: str, *, api_key: str | None = None,
                 email: str | None = None, batch: int = EFETCH_BATCH, cap: int = ESEARCH_CAP,
                 today: date | None = None) -> None:
        if not 1 <= batch <= EFETCH_BATCH:
            raise UsageError(f"efetch batch size must be 1..{EFETCH_BATCH}, not {batch}")
        self.client = client
        self.base = base_url.rstrip("/") + "/"
        self.api_key = api_key
        self.email = email
        self.batch = batch
        self.cap = cap
        self.today = today or date.today()
        self.matched: int | None = None  # records the last search() matched (its first esearch's count)
        self.capped: list[str] = []  # date ranges of the last search() with more records than `cap`

    def _params(self, **kw: Any) -> dict[str, Any]:
        p: dict[str, Any] = {"db": "pubmed", "tool": NCBI_TOOL}
        if self.email:
            p["email"] = self.email
        if self.api_key:
            p["api_key"] = self.api_key
        p.update({k: v for k, v in kw.items() if v is not None})
        return p

    def esearch(self, term: str, *, mindate: date | None = None, maxdate: date | None = None,
                retmax: int = 0) -> dict[str, Any]:
        """Run one esearch with ``usehistory=y``: {count, webenv, query_key, ids}."""
        dates = {}
        if mindate or maxdate:
            dates = {"datetype": DATE_TYPE, "mindate": (mindate or EARLIEST).strftime("%Y/%m/%d"),
                     "maxdate": (maxdate or self.today).strftime("%Y/%m/%d")}
        what = f"esearch for {term!r}" + (f" {dates['mindate']}-{dates['maxdate']}" if dates else "")
        resp = self.client.get(self.base + "esearch.fcgi", self._params(term=term, usehistory="y",
                               retmax=retmax, **dates), what=what)
        if resp.status_code != 200:
            raise SourceError(f"PubMed {what} failed: HTTP {resp.status_code}")
        root = parse_xml(resp.content, what=f"PubMed {what}")
        err = root.findtext("ERROR")
        if err:
            raise SourceError(f"PubMed {what}: {err.strip()}")
        count = ascii_int(root.findtext("Count") or "")
        if count is None:
            raise SourceError(f"PubMed {what}: no <Count> in the answer")
        return {"count": count, "webenv": _text_or_none(root.findtext("WebEnv")),
                "query_key": _text_or_none(root.findtext("QueryKey")),
                "ids": [i.text.strip() for i in root.findall("IdList/Id") if i.text and i.text.strip()],
                "not_found": [_txt(x) for x in root.findall("ErrorList/PhraseNotFound")]}

    def efetch(self, webenv: str, query_key: str, retstart: int, retmax: int) -> list[Paper | RecordError]:
        what = f"efetch records {retstart + 1}-{retstart + retmax}"
        resp = self.client.get(self.base + "efetch.fcgi", self._params(
            WebEnv=webenv, query_key=query_key, retstart=retstart, retmax=retmax, retmode="xml", rettype="abstract"),
            what=what)
        if resp.status_code != 200:
            raise SourceError(f"PubMed {what} failed: HTTP {resp.status_code}")
        return parse_efetch(resp.content, what=what)

    def _fetch_all(self, hist: dict[str, Any], n: int, label: str) -> Iterator[Paper | RecordError]:
        if not hist.get("webenv") or not hist.get("query_key"):
            raise SourceError(f"PubMed esearch for {label} gave no WebEnv/QueryKey (history server off?)")
        start = 0
        while start < n:
            size = min(self.batch, n - start)
            items = self.efetch(hist["webenv"], hist["query_key"], start, size)
            if not items:
                raise SourceError(f"PubMed efetch records {start + 1}-{start + size} of {label} came back empty",
                                  hint="run the command again to finish")
            yield from items
            start += min(size, len(items))

    def search(self, term: str, *, max_results: int | None = None, since: date | None = None) -> Iterator[Paper | RecordError]:
        """Records matching ``term`` (PubMed query syntax), up to ``max_results``; all of them when None.

        With ``since``, only records that entered PubMed on or after that date.
        """
        if not term.strip():
            raise UsageError("the PubMed query is empty")
        if max_results is not None and max_results < 1:
            raise UsageError("--max must be at least 1")
        self.capped = []
        first = self.esearch(term, mindate=since, maxdate=self.today if since else None)
        total = self.matched = first["count"]
        want = total if max_results is None else min(total, max_results)
        if want == 0:
            return
        if want <= self.cap:
            yield from self._fetch_all(first, want, repr(term))
            return
        # more than one search can return: split into date ranges that each fit
        lo, hi = since or EARLIEST, self.today
        hists: dict[tuple[date, date], dict[str, Any]] = {}

        def count(a: date, b: date) -> int:
            h = self.esearch(term, mindate=a, maxdate=b)
            hists[(a, b)] = h
            return h["count"]

        got = 0
        for a, b, n in plan_date_ranges(count, lo, hi, self.cap):
            take = min(n, self.cap, want - got)
            label = f"{term!r} {a}..{b}"
            if n > self.cap:
                self.capped.append(label)
                yield RecordError(f"PubMed search {label} has {n} records on one day; only {self.cap} can be fetched",
                                  record=label)
            yield from self._fetch_all(hists[(a, b)], take, label)
            got += take
            if got >= want:
                return
