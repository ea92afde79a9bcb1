"""Safe XML parsing for the sources: lxml with entity resolution, DTD loading and network access off.

One place says how an XML source is parsed (no XXE, no billion laughs, no network), whether
a whole response (:func:`parse_xml`: arXiv Atom feeds, PubMed efetch) or a bulk file read
record by record (:func:`iterparse_safely`: PubMed baseline/update files).
``lxml`` is imported inside the functions, off the start-up path.
"""

from __future__ import annotations

from typing import IO, Any

from zsearch.errors import SourceError

# The lxml options both parsers share: never resolve entities, never fetch anything, never
# read a DTD, refuse trees deeper or larger than lxml's defaults allow, drop comments.
SAFE_OPTIONS: dict[str, bool] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "remove_comments": True,
}


def safe_xml_parser(**kw: Any) -> Any:
    """An lxml parser that never resolves entities, loads a DTD or touches the network (no XXE)."""
    from lxml import etree

    return etree.XMLParser(dtd_validation=False, **SAFE_OPTIONS, **kw)


def error_text(exc: BaseException) -> str:
    """libxml2's message on one line (it may end a sentence with a newline mid-message)."""
    return " ".join(str(getattr(exc, "msg", None) or exc).split())


def parse_xml(data: bytes, *, what: str) -> Any:
    """Parse a whole XML document safely; a malformed one is a :class:`SourceError` naming ``what``."""
    from lxml import etree

    try:
        return etree.fromstring(data, parser=safe_xml_parser())
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"{what}: malformed XML ({error_text(exc)})") from None


def iterparse_safely(source: IO[bytes], tags: tuple[str, ...]) -> Any:
    """``lxml.etree.iterparse`` over ``source`` for the ``end`` of each element in ``tags``, safely.

    The caller clears each element once read, for constant memory; a malformed file raises
    ``lxml.etree.XMLSyntaxError`` while iterating.
    """
    from lxml import etree

    return etree.iterparse(source, events=("end",), tag=tags, **SAFE_OPTIONS)
