"""One record per paper: merge a newly ingested record into the paper already stored.

Pure functions: no storage, no I/O. The library calls :func:`merge_papers` when an
incoming record shares an arXiv id, PMID or DOI with a stored paper (and to fold two
records of one paper met in the same batch).

Rules, in the order they apply:

* The stored id is kept (ids never change under a paper).
* Bibliographic fields (title, abstract, authors, year, date, url) come from the best
  source: a catalogue record (arXiv, PubMed) beats metadata guessed from a PDF. Between
  records of equal rank the stored values stay and only gaps are filled — except that a
  newer record from the *same* source replaces the older one, and for arXiv a record
  only replaces another when its version is not older (latest version wins; the version
  is kept in ``extra["arxiv_version"]``).
* The body (``full_text``) comes from a PDF: a new PDF body replaces an older one; a
  record without a body never erases one.
* Identifiers (DOI, arXiv id, PMID, path) fill gaps; categories, sources and ``extra``
  are unions (``extra`` keys from the winning record win).
* Titles are normalised for display only (white space, line-break hyphens); ids are
  never derived from titles.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from zsearch.papers.model import Paper, display_title

# How much a source's bibliographic metadata is trusted: catalogue records and the user's own
# reference manager (curated by hand) over PDF guesses.
SOURCE_RANK = {"arxiv": 2, "pubmed": 2, "zotero": 2, "bibtex": 2, "pdf": 1}
BIB_FIELDS = ("title", "abstract", "authors", "year", "published", "url")
ID_FIELDS = ("doi", "arxiv_id", "pmid", "path")


def source_rank(source: str) -> int:
    return SOURCE_RANK.get(source, 0)


def _arxiv_version(p: Paper) -> int:
    try:
        return int(p.extra.get("arxiv_version") or 0)
    except (TypeError, ValueError):
        return 0


def new_record_wins(old: Paper, new: Paper) -> bool:
    """Whether ``new``'s bibliographic fields replace ``old``'s (gaps are filled either way)."""
    if new.source == "arxiv" and "arxiv" in old.sources and _arxiv_version(old) and _arxiv_version(new):
        if _arxiv_version(new) < _arxiv_version(old):
            return False  # an older arXiv version never overwrites a newer one
        if _arxiv_version(new) > _arxiv_version(old):
            return True
    if new.source == old.source:
        return True  # the same source again: the newer record
    return source_rank(new.source) > source_rank(old.source)


def _empty(v: Any) -> bool:
    return v is None or v == "" or v == [] or v == {}


def merge_papers(old: Paper, new: Paper) -> Paper:
    """``old`` (stored) updated with ``new`` (incoming) per the module's rules; inputs untouched."""
    wins = new_record_wins(old, new)
    merged = replace(old, authors=list(old.authors), categories=list(old.categories),
                     sources=list(old.sources), extra=dict(old.extra))
    for name in BIB_FIELDS:
        nv, ov = getattr(new, name), getattr(old, name)
        if _empty(nv):
            continue
        if _empty(ov) or wins:
            setattr(merged, name, list(nv) if isinstance(nv, list) else nv)
    for name in ID_FIELDS:
        nv = getattr(new, name)
        if not _empty(nv) and (_empty(getattr(old, name)) or (wins and new.source == old.source)):
            setattr(merged, name, nv)
    if new.full_text and (not old.full_text or new.source == "pdf" or old.source != "pdf" and new.source == old.source):
        merged.full_text = new.full_text
    if wins:
        merged.source = new.source
    merged.title = display_title(merged.title)
    if wins and new.source != "pdf" and new.categories:
        # the winning record's categories lead (arXiv primary category first), then the rest
        merged.categories = list(dict.fromkeys([*new.categories, *old.categories]))
    else:
        merged.categories = list(dict.fromkeys([*old.categories, *new.categories]))
    merged.sources = list(dict.fromkeys([*old.sources, *new.sources]))
    merged.extra = {**old.extra, **new.extra} if wins else {**new.extra, **old.extra}
    if "arxiv_version" in old.extra or "arxiv_version" in new.extra:
        merged.extra["arxiv_version"] = max(_arxiv_version(old), _arxiv_version(new))
    return merged
