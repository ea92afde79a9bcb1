"""Front-matter heuristics: title, authors, abstract, arXiv id, DOI and year of a PDF.

They come from the first page's layout (the largest type is the title, the lines under it
the authors, the text after "Abstract" the abstract) checked against the PDF's own
metadata. See docs/pdf.md.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Any

from zsearch.papers.identity import DOI_RE
from zsearch.papers.model import display_title
from zsearch.sources.pdf.layout import Block, Line, PdfText
from zsearch.sources.pdf.text import join_lines

# Title candidates are searched in the top half of the first page.
TITLE_ZONE = 0.5
# Pages scanned for the abstract, DOI and arXiv id (the front matter).
FRONT_PAGES = 2

_ARXIV_STAMP_RE = re.compile(r"arXiv:\s*(\d{4}\.\d{4,5}|[a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?", re.IGNORECASE)
_YEAR_RE = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")
_SECTION_RE = re.compile(
    r"^(?:(?:\d{1,2}|[IVX]{1,4})\.?\s+)?(?:introduction|background|keywords?|key\s+words"
    r"|index\s+terms|methods?|results|ccs\s+concepts|general\s+terms)\b[\s:.\-—]*",
    re.IGNORECASE,
)
_NUMBERED_HEADING_RE = re.compile(r"^(?:\d{1,2}|[IVX]{1,4})\.?\s+[A-Z][A-Za-z\- ]{2,60}$")
_ABSTRACT_RE = re.compile(r"^\s*a\s?b\s?s\s?t\s?r\s?a\s?c\s?t\b[\s:.\-—–]*", re.IGNORECASE)
_ARTICLE_TYPES = {
    "research article", "review", "review article", "original article", "article", "letter",
    "open access", "research", "methodology", "short report", "case report", "commentary",
    "original research", "research paper", "brief communication",
}  # fmt: skip
_AFFILIATION_WORDS = re.compile(
    r"\b(universit|institut|department|dept\.|school|college|laborator|lab\b|centre|center"
    r"|hospital|inc\.|corp|gmbh|ltd|research|faculty|academy|foundation|ministry|division"
    r"|street|road|avenue|box\s|usa\b|uk\b|germany|china|france|canada|japan|correspond)",
    re.IGNORECASE,
)
_MARKERS = "*†‡§¶∗⋆#♯♭♮∥⊥⊤⋄◇○•"


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", s.lower())


def _similar(a: str, b: str) -> bool:
    na, nb = _norm(a), _norm(b)
    if not na or not nb:
        return False
    if len(na) >= 12 and len(nb) >= 12 and (na in nb or nb in na):
        return True
    return SequenceMatcher(None, na, nb).ratio() >= 0.8


def _plausible_title(t: str) -> bool:
    t = t.strip()
    if len(t) < 8 or len(t.split()) < 2 or len(t) > 400:
        return False
    low = t.lower()
    bad = ("proceedings of", "microsoft word", ".doc", ".pdf", ".tex", "untitled", "article id")
    if any(x in low for x in bad):
        return False
    letters = sum(ch.isalpha() for ch in t)
    return letters >= 0.6 * len(t.replace(" ", ""))


def _title_lines(first: list[Block], height: float) -> list[Line]:
    """The first run of largest-type lines in the top part of page one."""
    cands = [
        ln
        for b in first
        for ln in b.lines
        if ln.bbox[1] < height * TITLE_ZONE
        and sum(ch.isalpha() for ch in ln.text) >= 3
        and _norm(ln.text) not in {_norm(a) for a in _ARTICLE_TYPES}
        and not _ABSTRACT_RE.match(ln.text)
    ]
    if not cands:
        return []
    big = max(ln.size for ln in cands)
    run: list[Line] = []
    for b in first:
        for ln in b.lines:
            if ln in cands and abs(ln.size - big) < 0.6:
                if run and ln.bbox[1] - run[-1].bbox[3] > 2.5 * big:
                    return run
                run.append(ln)
            elif run and ln.bbox[1] > run[-1].bbox[1]:
                return run
    return run


def _strip_markers(line: Line) -> str:
    """A line's text without superscript spans (affiliation marks) and footnote symbols."""
    parts = []
    for text, size, flags in line.spans:
        if flags & 1 or size < line.size * 0.8:  # superscript, or a raised small mark
            parts.append(" " if text.strip() in {",", ""} else ",")
            continue
        parts.append(text)
    s = "".join(parts)
    s = re.sub(f"[{re.escape(_MARKERS)}]", ",", s)
    return re.sub(r"\s+", " ", s).strip()


_NAME_RE = re.compile(
    r"^(?:[A-Z][A-Za-z'’\-]*\.?|[A-Z]\.|de|van|der|von|den|del|la|le|di|da|dos|y)"
    r"(?:\s+(?:[A-Z][A-Za-z'’\-]*\.?|[A-Z]\.|de|van|der|von|den|del|la|le|di|da|dos|y)){1,4}$"
)


def split_names(text: str) -> list[str]:
    """Names from an author line: split on commas, ``and`` and ``&``; non-names dropped.

    >>> split_names("Doug Downey, Stefan Schoenmackers, and Oren Etzioni")
    ['Doug Downey', 'Stefan Schoenmackers', 'Oren Etzioni']
    """
    out = []
    for part in re.split(r",|;|\band\b|&|\s{3,}", text):
        name = re.sub(r"\d+", "", part).strip(" .,*")
        name = re.sub(r"\s+", " ", name)
        if (
            name
            and _NAME_RE.match(name)
            and not _AFFILIATION_WORDS.search(name)
            and name.lower() not in {"abstract", "open access"}
        ):
            out.append(name)
    return out


def _layout_authors(first: list[Block], title: list[Line]) -> list[str]:
    """Names in the lines between the title and the abstract on page one."""
    if not title:
        return []
    after = title[-1].bbox[3]
    names: list[str] = []
    for b in first:
        for ln in b.lines:
            if ln.bbox[1] < after - 1 or ln in title:
                continue
            if _ABSTRACT_RE.match(ln.text) or ln.bbox[1] > after + 200:
                return names
            text = _strip_markers(ln)
            if "@" in text or _AFFILIATION_WORDS.search(text):
                if names:
                    return names
                continue
            found = split_names(text)
            if found:
                names += [n for n in found if n not in names]
            elif names:
                return names
    return names


def _same_people(a: list[str], b: list[str]) -> bool:
    """Two equally long name lists whose surnames mostly agree."""
    if not a or len(a) != len(b):
        return False
    last = lambda n: _norm(n.split()[-1]) if n.split() else ""
    agree = sum(SequenceMatcher(None, last(x), last(y)).ratio() >= 0.8 for x, y in zip(a, b))
    return agree >= 0.8 * len(a)


def _meta_authors(author: str) -> list[str]:
    author = author.strip()
    if not author or re.search(r"association|et al|\{|\bunknown\b|admin", author, re.IGNORECASE):
        return []
    sep = ";" if ";" in author else ","
    names = [re.sub(r"\s+", " ", a).strip() for a in re.split(rf"{sep}|\band\b", author)]
    # some metadata is typed in lower case ("oren etzioni")
    return [n.title() if n.islower() else n for n in names if n and len(n) < 80]


def _abstract(front: list[Block], body: float) -> str:
    """Text after an "Abstract" heading up to the first section heading.

    Without such a heading, the first long paragraph of page one that is not a licence
    statement stands in.
    """
    start = None
    for i, b in enumerate(front):
        if _ABSTRACT_RE.match(b.lines[0].text):
            start = i
            break
    if start is None:
        for b in front:
            t = b.text
            if (
                b.page == 0
                and len(t) >= 400
                and not re.search(r"copyright|licen[cs]e|©|creative commons", t, re.IGNORECASE)
            ):
                return _tidy(join_lines([ln.text for ln in b.lines], set()))
        return ""
    lines: list[str] = []
    first = front[start]
    head = _ABSTRACT_RE.sub("", first.lines[0].text, count=1)
    if head:
        lines.append(head)
    lines += [ln.text for ln in first.lines[1:]]
    size = None
    for b in front[start + 1 :]:
        t0 = b.lines[0].text
        if _SECTION_RE.match(t0) and (len(t0) < 40 or re.match(r"^key ?words|^index terms", t0, re.IGNORECASE)):
            break
        if _NUMBERED_HEADING_RE.match(t0) and len(b.lines) <= 2:
            break
        size = size or b.size
        if lines and abs(b.size - size) > 0.6:
            break
        lines += [ln.text for ln in b.lines]
    return _tidy(join_lines(lines, set()))


def _tidy(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def find_arxiv_id(text: str) -> str | None:
    """The arXiv id of an ``arXiv:`` stamp in ``text`` (version kept), or ``None``.

    >>> find_arxiv_id("arXiv:1810.04805v2 [cs.CL] 24 May 2019")
    '1810.04805v2'
    >>> find_arxiv_id("see arXiv preprint arXiv:hep-th/9901001") is None
    True
    """
    for m in _ARXIV_STAMP_RE.finditer(text):
        before = text[max(0, m.start() - 30) : m.start()].lower()
        if "preprint" in before:
            continue  # a reference, not this paper's stamp
        return m.group(1) + (m.group(2) or "")
    return None


def find_doi(text: str) -> str | None:
    """The first DOI in ``text``, without trailing punctuation.

    >>> find_doi("Rehabilitation Research and Practice doi:10.1155/2010/157939.")
    '10.1155/2010/157939'
    """
    m = DOI_RE.search(text)
    if not m:
        return None
    return m.group(1).rstrip(".,;)]}")


def _year(front_text: str, arxiv_stamp: str, meta: dict[str, str]) -> int | None:
    """Publication year: the arXiv stamp, a copyright or proceedings line, else metadata."""
    import datetime

    latest = datetime.date.today().year + 1
    ok = lambda y: 1950 <= y <= latest
    m = _YEAR_RE.search(arxiv_stamp)
    if m and ok(int(m.group(1))):
        return int(m.group(1))
    pats = [  # proceedings lines first: ACL's 2018 template still printed "c⃝2017"
        r"proceedings of[\s\S]{0,200}?(?<!\d)(19[5-9]\d|20\d\d)(?!\d)",
        r"(?:©|\(c\)|copyright|c⃝)\s*(?:the authors?\s*)?(\d{4})",
        r"(\d{4})\.?\s*(?:c⃝|©)?\s*association for computational linguistics",
        r"(?:volume|vol\.)\s*(\d{4})",
        r"published(?: online)?:?\s*(?:\d{1,2}\s+\w+\s+)?(\d{4})",
    ]
    for p in pats:
        m2 = re.search(p, front_text, re.IGNORECASE)
        if m2 and ok(int(m2.group(1))):
            return int(m2.group(1))
    for key in ("subject", "keywords"):
        m = _YEAR_RE.search(meta.get(key, ""))
        if m and ok(int(m.group(1))):
            return int(m.group(1))
    m = re.match(r"D:(\d{4})", meta.get("creationDate", ""))
    if m and ok(int(m.group(1))):
        return int(m.group(1))
    return None


def paper_metadata(layout: PdfText) -> dict[str, Any]:
    """Title, authors, abstract, DOI, arXiv id and year from the layout and PDF metadata."""
    meta = layout.metadata
    first = layout.pages[0] if layout.pages else []
    height = layout.page_sizes[0][1] if layout.page_sizes else 0.0
    title_lines = _title_lines(first, height)
    layout_title = display_title(join_lines([ln.text for ln in title_lines], set()))
    meta_title = display_title(meta.get("title", ""))
    meta_ok = _plausible_title(meta_title)
    if meta_ok and (not layout_title or _similar(meta_title, layout_title)):
        title = meta_title
    elif layout_title:
        title = layout_title
        meta_ok = False
    else:
        title = meta_title if meta_ok else ""

    authors = _meta_authors(meta.get("author", "")) if meta_ok else []
    from_layout = _layout_authors(first, title_lines)
    if (
        not authors
        or _same_people(authors, from_layout)
        or (len(from_layout) > len(authors) and _norm(authors[0]) in map(_norm, from_layout))
    ):
        # the names as printed: metadata may abbreviate ("Lucy Wang") or misspell them
        authors = from_layout or authors

    front = [b for page in layout.pages[:FRONT_PAGES] for b in page]
    front_text = "\n".join(b.text for b in front if b.page == 0)
    margins = "\n".join(b.text for b in layout.dropped if b.page < FRONT_PAGES)
    stamps = "\n".join(ln.text for ln in layout.rotated)
    meta_text = " ".join(meta.get(k, "") for k in ("subject", "keywords", "title"))

    arxiv = find_arxiv_id(stamps) or find_arxiv_id(front_text)
    doi = find_doi(meta_text) or find_doi(margins) or find_doi(front_text)
    stamp_line = next((ln.text for ln in layout.rotated if _ARXIV_STAMP_RE.search(ln.text)), "")
    year = _year(front_text + "\n" + margins, stamp_line, meta)
    return {
        "title": title,
        "authors": authors,
        "abstract": _abstract(front, layout.body_size),
        "doi": doi,
        "arxiv_id": arxiv,
        "year": year,
    }
