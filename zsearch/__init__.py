"""zsearch: local literature search — ingest, embed full papers, hybrid search, rerank, cluster.

The public API::

    from zsearch import Library
    lib = Library.open("my-db")
    lib.ingest_pdfs(["papers/"])
    hits = lib.search("document-level representation learning", k=10)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zsearch.papers.model import Hit, Paper

__version__ = "0.1.0"
__all__ = ["Hit", "Library", "Paper", "__version__"]

if TYPE_CHECKING:
    from zsearch.library import Library


def __getattr__(name: str) -> Any:
    # Library pulls numpy and the store; keep `import zsearch` (and `zsearch --help`) light.
    if name == "Library":
        from zsearch.library import Library

        return Library
    raise AttributeError(name)
