"""Papers, passages and hits; canonical ids and content hashes.

A :class:`Paper` is what every source yields and what the store keeps. Its id is
canonical, in order of preference: ``arxiv:<id without version>``, ``pmid:<n>``,
``doi:<lower-cased doi>``, else ``sha256:<hash of the PDF bytes>``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

ARXIV_NEW_RE = re.compile(r"(?<![\w.])(\d{4}\.\d{4,5})(v\d+)?(?![\w])")
ARXIV_OLD_RE = re.compile(r"(?<![\w.])([a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?(?![\w])")
DOI_RE = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.IGNORECASE)


def normalize_doi(doi: str | None) -> str | None:
    """Lower-case a DOI and strip resolver prefixes and trailing punctuation."""
    if not doi:
        return None
    d = doi.strip()
    d = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", d, flags=re.IGNORECASE)
    d = d.rstrip(".,;)]}")
    return d.lower() or None


def split_arxiv_version(arxiv_id: str) -> tuple[str, int | None]:
    """``"2401.01234v3"`` -> ``("2401.01234", 3)``; an id without version gives ``None``."""
    m = re.match(r"^(.*?)(?:v(\d+))?$", arxiv_id.strip())
    assert m is not None
    base, ver = m.group(1), m.group(2)
    return base, int(ver) if ver else None


def normalize_arxiv_id(arxiv_id: str | None) -> str | None:
    """Strip ``arXiv:`` prefixes, URLs and the version: ``abs/2401.01234v2`` -> ``2401.01234``."""
    if not arxiv_id:
        return None
    a = arxiv_id.strip()
    a = re.sub(r"^(https?://arxiv\.org/(abs|pdf)/|arxiv:)", "", a, flags=re.IGNORECASE)
    a = re.sub(r"\.pdf$", "", a)
    return split_arxiv_version(a)[0] or None


def canonical_id(
    *,
    arxiv_id: str | None = None,
    pmid: str | None = None,
    doi: str | None = None,
    sha256: str | None = None,
) -> str:
    """The canonical id from the best identifier present."""
    if arxiv_id:
        return f"arxiv:{normalize_arxiv_id(arxiv_id)}"
    if pmid:
        return f"pmid:{str(pmid).strip()}"
    if doi:
        return f"doi:{normalize_doi(doi)}"
    if sha256:
        return f"sha256:{sha256}"
    raise ValueError("a paper needs an arXiv id, a PMID, a DOI or a content hash")


def display_title(title: str) -> str:
    """Collapse white space and line-break hyphenation; keep case (for display only)."""
    t = unicodedata.normalize("NFC", title or "")
    t = re.sub(r"-\s*\n\s*", "", t)
    return re.sub(r"\s+", " ", t).strip()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
