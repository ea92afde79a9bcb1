"""Paper identity: canonical ids, identifier normalisation, and the one identifier-key scheme.

Two records are the same paper when they share an identifier key. A key is ``kind:value``
with kind ``id`` (the canonical id), ``arxiv``, ``pmid``, ``doi`` (normalised) or ``path``
(a PDF file known only by its bytes' hash: an edited PDF without identifiers is still the
same paper). Ingest folds records by :func:`lookup_keys`; the store answers with
:func:`stored_keys` of its rows (zsearch.store.tables.Store.find_by_identifiers).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, Protocol


class Identified(Protocol):
    """What the key scheme reads of a record (a :class:`~zsearch.papers.model.Paper`)."""

    id: str
    source: str
    arxiv_id: str | None
    pmid: str | None
    doi: str | None
    path: str | None

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


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# The key kinds and the stored column each one is looked up in.
KEY_COLUMNS = {"id": "id", "arxiv": "arxiv_id", "pmid": "pmid", "doi": "doi", "path": "path"}


def lookup_keys(p: Identified) -> list[str]:
    """The identifier keys an incoming record is matched by, best first.

    >>> from zsearch.papers.model import Paper
    >>> lookup_keys(Paper(id="arxiv:2401.01234", source="arxiv", arxiv_id="2401.01234", doi="10.1/X"))
    ['id:arxiv:2401.01234', 'arxiv:2401.01234', 'doi:10.1/x']
    """
    keys = [f"id:{p.id}"]
    if p.arxiv_id:
        keys.append(f"arxiv:{p.arxiv_id}")
    if p.pmid:
        keys.append(f"pmid:{p.pmid}")
    if p.doi:
        keys.append(f"doi:{normalize_doi(p.doi)}")
    if p.source == "pdf" and p.path and p.id.startswith("sha256:"):
        keys.append(f"path:{p.path}")  # an edited PDF with no identifier is still the same paper
    return keys


def stored_keys(row: Mapping[str, Any]) -> list[str]:
    """The identifier keys a stored row answers to (every identifier it holds, its path too).

    >>> stored_keys({"id": "pmid:7", "pmid": "7", "doi": "10.1/x", "path": None, "arxiv_id": None})
    ['id:pmid:7', 'pmid:7', 'doi:10.1/x']
    """
    keys = [f"id:{row['id']}"]
    for kind in ("arxiv", "pmid", "doi", "path"):
        value = row.get(KEY_COLUMNS[kind])
        if value:
            keys.append(f"{kind}:{value}")
    return keys


def key_values(keys: list[str]) -> dict[str, list[str]]:
    """Group keys by the stored column they are looked up in: ``{"arxiv_id": [...], ...}``.

    >>> key_values(["id:pmid:7", "pmid:7", "doi:10.1/x"])
    {'id': ['pmid:7'], 'pmid': ['7'], 'doi': ['10.1/x']}
    """
    out: dict[str, list[str]] = {}
    for key in keys:
        kind, _, value = key.partition(":")
        col = KEY_COLUMNS[kind]
        if value not in out.setdefault(col, []):
            out[col].append(value)
    return out
