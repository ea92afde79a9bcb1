"""BibTeX source: a ``.bib`` file (Better BibTeX, JabRef, Zotero or Mendeley export) -> Paper.

Parsed with bibtexparser 2 (``@string`` macros resolved, co-authors split at ``and`` outside
braces); LaTeX in titles, names, abstracts and keywords is decoded with pylatexenc, the decoder
bibtexparser's own ``LatexDecodingMiddleware`` uses (math kept verbatim). Paths, URLs and
DOIs are taken as written.

An entry's PDFs come from its ``file`` field in any of the common forms: Better BibTeX's plain
paths (``/home/me/Zotero/storage/KEY/x.pdf``, several joined by ``;``), JabRef's and Zotero's
``description:path:type`` triples (``:papers/x.pdf:PDF``, ``\\:`` escaping a colon in a
Windows path) and Mendeley's ``$\\backslash$``-escaped paths. Relative paths are read from the
``.bib`` file's folder (or ``base_dir``); URLs are skipped. The first readable PDF gives the
full text (:func:`zsearch.sources.zotero.read_attached_pdfs`); an entry without one is stored
from its metadata, and a listed PDF that is missing or unreadable is reported.

An entry bibtexparser cannot parse (an unbalanced brace, a missing comma, a repeated field or
citation key) is yielded as a :class:`~zsearch.errors.RecordError` named ``FILE:LINE (key)``
and skipped; every other entry is still read. Ids: ``canonical_id`` from the entry's arXiv id
(``eprint`` with ``archiveprefix``/``eprinttype`` arXiv), PMID or DOI, else ``bibtex:CITEKEY``
(citation keys are unique within a library; two files that reuse a key for different papers
would share an id).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zsearch.errors import NotFound, RecordError
from zsearch.papers.identity import DOI_RE
from zsearch.papers.model import Paper, display_title
from zsearch.sources.records import paper_id, read_attached_pdfs

_ARXIV_TYPES = {"arxiv"}
_ARXIV_IN_TEXT = re.compile(r"arxiv:\s*(\d{4}\.\d{4,5}|[a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?", re.IGNORECASE)
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"), 1)}
_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_ENTRY_KEY = re.compile(r"@\s*\w+\s*[{(]\s*([^,\s{}()]+)")
_PDF_TYPES = {"pdf", "application/pdf"}


def _latex() -> Any:
    from pylatexenc.latex2text import LatexNodes2Text  # bibtexparser 2's own decoding dependency

    return LatexNodes2Text(math_mode="verbatim")


def _split_unescaped(text: str, sep: str) -> list[str]:
    """Split at ``sep`` not preceded by a backslash (JabRef escapes ``:`` and ``;`` as ``\\:``, ``\\;``)."""
    return re.split(rf"(?<!\\){re.escape(sep)}", text)


def _unescape(path: str) -> str:
    return path.replace("\\:", ":").replace("\\;", ";").replace("\\\\", "\\")


def file_field_paths(value: str) -> list[str]:
    """The PDF paths (and PDF-typed paths) in a ``file`` field, in order; URLs and non-PDF files left out.

    >>> file_field_paths(":papers/a.pdf:PDF;Snapshot:papers/a.html:text/html;/abs/b.pdf")
    ['papers/a.pdf', '/abs/b.pdf']
    """
    value = value.replace("$\\backslash$", "\\").replace("{\\textbackslash}", "\\")  # Mendeley
    out = []
    for part in _split_unescaped(value, ";"):
        part = part.strip()
        if not part:
            continue
        bits = _split_unescaped(part, ":")
        kind = ""
        if len(bits) >= 3 and not re.fullmatch(r"[A-Za-z]", bits[0]):  # description:path:type
            path, kind = ":".join(bits[1:-1]), bits[-1].strip().lower()
        else:  # a plain path, "C:\\…" included
            path = part
        path = _unescape(path.strip())
        if not path or re.match(r"^[a-z][a-z0-9+.-]*://", path, re.IGNORECASE):
            continue
        if kind in _PDF_TYPES or path.lower().endswith(".pdf"):
            out.append(path)
    return out


def _resolve(path: str, base: Path) -> Path:
    p = Path(path).expanduser()
    if p.is_absolute():
        return p
    if not (base / p).exists() and Path("/" + path).exists():
        return Path("/" + path)  # Mendeley writes absolute paths without their leading slash
    return base / p


def _name(raw: str, decode: Any) -> str:
    """``Last, First`` / ``von Last, Jr, First`` / ``{Corporate Name}`` -> ``First von Last Jr``."""
    s = raw.strip()
    if s.startswith("{") and s.endswith("}") and s.count("{") == 1:
        return " ".join(decode(s[1:-1]).split())
    depth, parts, cur = 0, [], ""
    for ch in s:
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    parts = [p.strip() for p in parts]
    if len(parts) == 2:
        s = f"{parts[1]} {parts[0]}"
    elif len(parts) >= 3:
        s = f"{parts[2]} {parts[0]} {parts[1]}"
    return " ".join(decode(s).split())


def _date(fields: dict[str, str]) -> tuple[int | None, str | None]:
    m = _ISO_DATE.match(fields.get("date", "").strip())  # biblatex: 2020, 2020-07, 2020-07-15, 2020/2021
    if m:
        y, mo, d = m.groups()
        return int(y), "-".join(x for x in (y, mo, d) if x)
    ym = re.search(r"\d{4}", fields.get("year", ""))
    if not ym:
        return None, None
    y = ym.group(0)
    month = fields.get("month", "").strip().lower()
    n = int(month) if month.isdigit() else _MONTHS.get(month[:3])
    return int(y), f"{y}-{n:02d}" if n and 1 <= n <= 12 else y


def _arxiv(fields: dict[str, str]) -> str | None:
    kind = (fields.get("archiveprefix") or fields.get("eprinttype") or "").strip().lower()
    if fields.get("eprint") and kind in _ARXIV_TYPES:
        return re.sub(r"^arxiv:\s*", "", fields["eprint"].strip(), flags=re.IGNORECASE)
    if fields.get("arxivid"):  # Mendeley
        return fields["arxivid"].strip()
    for name in ("journal", "note", "howpublished"):
        m = _ARXIV_IN_TEXT.search(fields.get(name, ""))
        if m:
            return m.group(1)
    return None


def entry_to_paper(entry: Any, *, record: str, decode: Any) -> Paper:
    """One bibtexparser ``Entry`` -> Paper (metadata only; see :func:`read_bibtex` for PDFs)."""
    fields = {f.key.lower(): f.value for f in entry.fields}
    text = {k: v for k, v in fields.items() if isinstance(v, str)}
    title = display_title(decode(text.get("title", "")))
    if not title:
        raise RecordError("entry has no title; skipped", record=record)
    names = fields.get("author") or fields.get("editor") or []
    names = [names] if isinstance(names, str) else names
    authors = [a for a in (_name(n, decode) for n in names if n.strip().lower() != "others") if a]
    year, published = _date(text)
    doi_m = DOI_RE.search(text.get("doi", ""))
    pmid = text.get("pmid", "").strip()
    ids = {"arxiv_id": _arxiv(text), "pmid": pmid if pmid.isdigit() else None, "doi": doi_m.group(1) if doi_m else None}
    keywords = [" ".join(decode(k).split()) for k in re.split(r"[,;]", text.get("keywords", ""))]
    extra: dict[str, Any] = {"citation_key": entry.key, "entry_type": entry.entry_type.lower()}
    venue = text.get("journal") or text.get("journaltitle") or text.get("booktitle")
    for name, value in (("journal", venue), ("volume", text.get("volume")), ("issue", text.get("number")),
                        ("pages", text.get("pages")), ("publisher", text.get("publisher"))):
        if value:
            extra[name] = " ".join(decode(value).split()).replace("--", "–")
    editors = fields.get("editor") if fields.get("author") else None
    if isinstance(editors, list) and editors:
        extra["editors"] = [_name(n, decode) for n in editors]
    url = text.get("url", "").strip() or None
    return Paper(
        id=paper_id(ids, f"bibtex:{entry.key}"),
        source="bibtex",
        title=title,
        abstract=" ".join(decode(text.get("abstract", "")).split()),
        authors=authors,
        year=year,
        published=published,
        doi=ids["doi"],
        arxiv_id=ids["arxiv_id"],
        pmid=ids["pmid"],
        url=url or (f"https://doi.org/{ids['doi']}" if ids["doi"] else None),
        categories=list(dict.fromkeys(k for k in keywords if k)),
        extra=extra,
    )


def _failed(block: Any, path: Path) -> RecordError:
    m = _ENTRY_KEY.match(getattr(block, "raw", None) or "")
    key = m.group(1) if m else "?"
    record = f"{path}:{(getattr(block, 'start_line', None) or 0) + 1} ({key})"
    name = type(block).__name__
    if name == "DuplicateBlockKeyBlock":
        return RecordError(f"citation key {key!r} used again; this entry is skipped (the first is kept)", record=record)
    if name == "DuplicateFieldKeyBlock":
        dup = re.search(r"entry: (.+?)\.", str(block.error))
        return RecordError(f"entry repeats the field {dup.group(1) if dup else ''}; skipped", record=record)
    reason = getattr(block.error, "abort_reason", None) or str(block.error) or type(block.error).__name__
    return RecordError(f"cannot parse entry: {' '.join(str(reason).split())}; skipped", record=record)


def read_bibtex(path: str | Path, *, base_dir: str | Path | None = None,
                read_pdfs: bool = True) -> Iterator[Paper | RecordError]:
    """A Paper per entry of a ``.bib`` file and a RecordError per entry that cannot be read, in file order.

    ``base_dir`` resolves relative ``file`` paths (default: the ``.bib`` file's folder). A
    missing file is :class:`~zsearch.errors.NotFound`.
    """
    import bibtexparser
    from bibtexparser.middlewares import SeparateCoAuthors
    from bibtexparser.model import Entry, ExplicitComment, ImplicitComment, Preamble, String

    path = Path(path).expanduser()
    if not path.is_file():
        raise NotFound(f"no such file: {path}")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # JabRef's older default ("% Encoding: ISO8859_1")
    base = Path(base_dir).expanduser() if base_dir else path.parent
    log = logging.getLogger("bibtexparser")
    level = log.level
    log.setLevel(logging.CRITICAL)  # its parse warnings come back below as RecordErrors
    try:
        library = bibtexparser.parse_string(text, append_middleware=[SeparateCoAuthors()])
    finally:
        log.setLevel(level)
    decode = _latex().latex_to_text
    for block in library.blocks:
        if isinstance(block, (String, Preamble, ExplicitComment, ImplicitComment)):
            continue
        if not isinstance(block, Entry):
            yield _failed(block, path)
            continue
        record = f"{path}:{block.start_line + 1} ({block.key})"
        try:
            paper = entry_to_paper(block, record=record, decode=decode)
        except RecordError as exc:
            yield exc
            continue
        file_value = next((f.value for f in block.fields if f.key.lower() == "file" and isinstance(f.value, str)), "")
        pdfs = [(_resolve(p, base), record) for p in file_field_paths(file_value)]
        if read_pdfs and pdfs:
            paper, errors = read_attached_pdfs(paper, pdfs)
            yield from errors
        yield paper
