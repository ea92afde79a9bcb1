"""Sentence splitting for the sentence stage: which sentences of a paper get vectors.

The second stage of the CPU default (docs/search.md, "Sentence stage").

A short-context model such as the bundled all-MiniLM-L6-v2 (trained on sentence pairs of up
to 128 tokens) matches a query best against a text of the same grain. At ingest every
paper therefore also gets one vector per sentence of its title and abstract (title first,
at most :data:`MAX_SENTENCES`); at search time a candidate's dense score becomes

    (1 - w) * paper score (MaxP over its vector and passages) + w * best sentence score

with ``w = SearchConfig.sentence_weight``. On SciFact train (809 queries, 5,183 abstracts)
this raised dense-only nDCG@10 from 0.668 to 0.701 and the fused default from 0.734 to
0.748, 0.750 once abstract-only papers kept no passages (docs/benchmarks.md, "Search
quality", lists every candidate measured).

Pure functions only: splitting text. The ingest calls them to choose what gets vectors, and
the store to read back sentence texts it did not store (zsearch.store.schema.pack_sentences:
an abstract's sentences re-split from the row). So a change to the split is a change to
stored data: a row whose re-split count no longer matches its vectors shows no sentence
text (never a wrong one) until it is re-embedded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Sentences kept per paper: the title plus 47 sentences covers every SciFact abstract (the
# longest has 39) and bounds the cost of a paper with a very long abstract.
MAX_SENTENCES = 48
# Sentences shorter than this (characters) are folded into the next one: abbreviation debris,
# section labels such as "Methods." and lone numbers carry no meaning of their own.
MIN_SENTENCE_CHARS = 12
# A sentence boundary: end punctuation, white space, then a capital, digit or bracket.
# Lower-case continuations ("et al. and", "i.e. the") do not split.
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")
# Abbreviations that end in a full stop but do not end a sentence.
_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|et al|vs|Fig|Figs|Eq|Eqs|Ref|Refs|No|approx|ca|cf|Dr|Mr|Ms|St)\.)$")


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences (white space collapsed, no empty ones).

    >>> split_sentences("Deep nets work. We show why (Fig. 2). e.g. this stays.")
    ['Deep nets work.', 'We show why (Fig. 2). e.g. this stays.']
    """
    text = " ".join((text or "").split())
    if not text:
        return []
    out: list[str] = []
    carry = ""
    for piece in _BOUNDARY.split(text):
        piece = f"{carry} {piece}".strip() if carry else piece
        carry = ""
        if _ABBREV.search(piece) or len(piece) < MIN_SENTENCE_CHARS:
            carry = piece
            continue
        out.append(piece)
    if carry:
        if out and len(carry) < MIN_SENTENCE_CHARS:
            out[-1] = f"{out[-1]} {carry}"
        else:
            out.append(carry)
    return out


def paper_sentences(title: str, abstract: str, body: str = "", limit: int = MAX_SENTENCES) -> list[str]:
    """The sentences a paper gets vectors for: its title, then its abstract's sentences.

    A paper without an abstract (a PDF whose abstract was not found) uses the opening
    sentences of its body instead. At most ``limit``.

    >>> paper_sentences("A title", "First sentence is here. Second sentence is here.")
    ['A title', 'First sentence is here.', 'Second sentence is here.']
    """
    out = [" ".join(title.split())] if title and title.strip() else []
    out += split_sentences(abstract if abstract and abstract.strip() else body[:20_000])
    return out[:limit]


def covers_whole_text(title: str, abstract: str, body: str, sentences: Sequence[str]) -> bool:
    """Whether ``sentences`` (from :func:`paper_sentences`) hold all of a paper's text.

    True for a paper of title and abstract only whose sentences were not cut at
    :data:`MAX_SENTENCES`: its sentence vectors then cover every word, and passages over
    the same abstract add nothing (docs/benchmarks.md, "without passages").

    >>> covers_whole_text("T", "One sentence here. Two sentences here.", "", ["T", "One sentence here.", "Two sentences here."])
    True
    >>> covers_whole_text("T", "An abstract here.", "A body too.", ["T", "An abstract here."])
    False
    """
    if (body and body.strip()) or not (abstract and abstract.strip()):
        return False
    want = (1 if title and title.strip() else 0) + len(split_sentences(abstract))
    return len(sentences) == want
