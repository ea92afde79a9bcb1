"""The values that flow through zsearch: Paper (what sources yield and the store keeps), Hit, Deletion.

A paper's id is canonical (zsearch.papers.identity): ``arxiv:<id without version>``,
``pmid:<n>``, ``doi:<lower-cased doi>``, else ``sha256:<hash of the PDF bytes>``. Its
:meth:`Paper.content_hash` decides whether a stored paper must be embedded again.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

from zsearch.papers.identity import normalize_arxiv_id, normalize_doi


def display_title(title: str) -> str:
    """Collapse white space and line-break hyphenation; keep case (for display only)."""
    t = unicodedata.normalize("NFC", title or "")
    t = re.sub(r"-\s*\n\s*", "", t)
    return re.sub(r"\s+", " ", t).strip()


@dataclass
class Paper:
    """One paper, whatever source it came from."""

    id: str
    source: str  # where this record came from: "pdf", "arxiv" or "pubmed"
    title: str = ""
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    pmid: str | None = None
    url: str | None = None
    path: str | None = None
    full_text: str = ""
    categories: list[str] = field(default_factory=list)  # arXiv categories, MeSH terms
    published: str | None = None  # ISO date, as precise as the source gives it
    sources: list[str] = field(default_factory=list)  # every source it came from
    extra: dict[str, Any] = field(default_factory=dict)  # journal, version, pmcid, …

    def __post_init__(self) -> None:
        self.doi = normalize_doi(self.doi)
        self.arxiv_id = normalize_arxiv_id(self.arxiv_id)
        if self.source and self.source not in self.sources:
            self.sources = [*self.sources, self.source]

    @property
    def document_text(self) -> str:
        """Title, abstract and body, as the embedder and full-text index see them."""
        parts = [self.title, self.abstract, self.full_text]
        return "\n\n".join(p for p in parts if p)

    @property
    def head_text(self) -> str:
        """Title and abstract: the part of a paper that always fits a short-context model."""
        return "\n\n".join(p for p in (self.title, self.abstract) if p)

    def content_hash(self) -> str:
        """Hash of what gets embedded: unchanged hash means nothing to re-embed."""
        h = hashlib.sha256()
        for part in (self.title, self.abstract, self.full_text):
            h.update((part or "").encode("utf-8"))
            h.update(b"\x00")
        return h.hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Hit:
    """One search result."""

    rank: int
    id: str
    score: float
    title: str = ""
    year: int | None = None
    source: str = ""
    authors: list[str] = field(default_factory=list)
    doi: str | None = None
    url: str | None = None
    abstract: str = ""
    passage: str | None = None  # best-matching passage of a long paper, when it decided the rank
    sentence: str | None = None  # best-matching title/abstract sentence (the sentence stage)
    scores: dict[str, float] = field(default_factory=dict)  # per-retriever ranks/scores

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Deletion:
    """A source's word that papers are withdrawn (PubMed ``<DeleteCitation>``).

    Sources yield it among their Papers; the library commits what came before, then deletes.
    """

    ids: list[str] = field(default_factory=list)  # canonical ids, e.g. "pmid:N"
    record: str = ""  # the file it came from


@dataclass
class Unchanged:
    """A source's word that a record is the one already stored (a PDF whose bytes did not change).

    It lets a source skip the expensive part of reading a record (a PDF's layout) when the
    store already holds exactly it; ingest counts it as unchanged.
    """

    record: str = ""  # the file or record id


def probe_paper(pid: str) -> Paper | None:
    """A stand-in Paper carrying the identifier of a canonical id, for identifier look-ups."""
    kind, _, value = pid.partition(":")
    if kind == "pmid":
        return Paper(id=pid, source="pubmed", pmid=value)
    if kind == "arxiv":
        return Paper(id=pid, source="arxiv", arxiv_id=value)
    if kind == "doi":
        return Paper(id=pid, source="doi", doi=value)
    return None
