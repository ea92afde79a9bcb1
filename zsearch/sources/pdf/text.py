"""Text repair: ordered blocks to plain text, line-end hyphens mended, broken paragraphs rejoined.

A line-end hyphen goes only when the document itself spells the word without one (its
vocabulary); a paragraph cut by a column or page break is joined again, and the small-print
footnotes in between follow it, so its sentence stays whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from zsearch.sources.pdf.layout import Block, read_layout

_WORD_RE = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")


def _vocabulary(lines: Iterable[str]) -> set[str]:
    """Lower-cased words and hyphenated compounds that occur inside lines (not at line ends)."""
    vocab: set[str] = set()
    for line in lines:
        words = _WORD_RE.findall(line)
        if line.rstrip().endswith("-") and words:
            words = words[:-1]
        for w in words:
            w = w.lower()
            vocab.add(w)
            if "-" in w:
                vocab.update(w.split("-"))
    return vocab


def join_hyphenated(head: str, tail: str, vocab: set[str]) -> str:
    """Join a word broken at a line end (``head`` without its hyphen, ``tail``).

    The hyphen goes when the document spells the joined word elsewhere, stays when it
    spells the hyphenated compound, and otherwise goes when both parts are lower case.

    >>> join_hyphenated("ingre", "dient", set())
    'ingredient'
    >>> join_hyphenated("citation", "informed", {"citation-informed"})
    'citation-informed'
    >>> join_hyphenated("BERT", "based", set())
    'BERT-based'
    """
    joined, compound = (head + tail).lower(), f"{head}-{tail}".lower()
    if joined in vocab:
        return head + tail
    if compound in vocab:
        return f"{head}-{tail}"
    if head[-1:].islower() and tail[:1].islower():
        return head + tail
    return f"{head}-{tail}"


_HYPHEN_END_RE = re.compile(r"([A-Za-z]+)-$")
_WORD_START_RE = re.compile(r"^([A-Za-z]+)")


def join_lines(lines: list[str], vocab: set[str]) -> str:
    """Lines of one paragraph as one string, de-hyphenating line ends."""
    parts: list[str] = []  # one per line (joined with spaces at the end: linear time)
    for line in lines:
        prev = parts[-1] if parts else ""
        m = _HYPHEN_END_RE.search(prev) if prev.endswith("-") else None
        n = _WORD_START_RE.match(line) if m else None
        if m and n:
            word = join_hyphenated(m.group(1), n.group(1), vocab)
            parts[-1] = prev[: m.start()] + word + line[n.end() :]
        else:
            parts.append(line)
    return " ".join(parts)


def _continues(prev: str, nxt: str) -> bool:
    """Whether block ``nxt`` continues the sentence that ``prev`` breaks off (column/page turn)."""
    if not prev or not nxt:
        return False
    if prev.endswith("-") and nxt[:1].isalpha():
        return True
    if prev[-1] in ".!?:":
        return False
    if nxt[:1].islower():
        return True
    # "(e.g., Lample et al.," | "2016), and assume ..."
    return prev[-1] in ",(" and (nxt[:1].isdigit() or nxt[:1] in "([")


def blocks_text(blocks: list[list[Block]], vocab: set[str] | None = None) -> str:
    """Plain text of ordered blocks: paragraphs separated by blank lines, hyphens mended.

    A paragraph cut by a column or page break is joined again when the next block starts in
    lower case after an unfinished sentence; footnotes in between follow that paragraph.
    """
    flat = [b for page in blocks for b in page]
    if vocab is None:
        vocab = _vocabulary(ln.text for b in flat for ln in b.lines)
    paras: list[list[str]] = []
    notes: list[list[str]] = []
    prev = ""
    for b in flat:
        lines = [ln.text for ln in b.lines]
        if b.note:
            if notes and _continues(notes[-1][-1], lines[0]):
                notes[-1].extend(lines)
            else:
                notes.append(lines)
        elif paras and _continues(prev, lines[0]):
            paras[-1].extend(lines)
            prev = lines[-1]
        else:
            paras += notes
            notes = []
            paras.append(lines)
            prev = lines[-1]
    paras += notes
    return "\n\n".join(join_lines(p, vocab) for p in paras)


def extract_pages(path: str | Path) -> list[str]:
    """Text of each page in reading order (headers/footers dropped, hyphens mended).

    This is the text-extraction step alone, without metadata; benchmarks time it.
    """
    layout = read_layout(path)
    vocab = _vocabulary(ln.text for page in layout.pages for b in page for ln in b.lines)
    return [blocks_text([page], vocab) for page in layout.pages]
