"""Values read out of source text: numbers and years (ASCII digits only, bounded), bracketed titles.

``str.isdigit()`` is true for ``"²"`` and ``"①"``, which ``int()`` refuses, and ``int()``
refuses more than 4,300 digits; a record carrying either must be read as "no value", never
end the batch with a ValueError (tests/test_fuzz_readers.py found both).
"""

from __future__ import annotations

import re

# a year, a day, a page count, a version or a PMID has at most this many digits (PMIDs: 8 today)
MAX_DIGITS = 9
_INT_RE = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}")
_YEAR_RE = re.compile(r"([0-9]{4})(?![0-9])")


def ascii_int(text: object, *, lo: int | None = None, hi: int | None = None) -> int | None:
    """``text`` as an int when it is 1-9 ASCII digits (white space around allowed) within ``[lo, hi]``; else None.

    >>> ascii_int(" 42 "), ascii_int("²"), ascii_int("9" * 5000), ascii_int("13", lo=1, hi=12)
    (42, None, None, None)
    """
    if not isinstance(text, str):
        return None
    t = text.strip()
    if not _INT_RE.fullmatch(t):
        return None
    n = int(t)
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        return None
    return n


def leading_year(text: object) -> int | None:
    """The year a date string starts with (``"2017-07-27T08:18:33Z"`` -> 2017), else None.

    >>> leading_year("2017-07-27"), leading_year("²017"), leading_year("20170")
    (2017, None, None)
    """
    if not isinstance(text, str):
        return None
    m = _YEAR_RE.match(text)
    return int(m.group(1)) if m else None


def unbracket_translated_title(title: str) -> str:
    """MEDLINE brackets titles translated into English: ``[Treatment of sepsis in children].``.

    The brackets and the full stop go only when the opening bracket closes just before
    the full stop: ``[18F]FDG uptake in [the liver].`` keeps its brackets.

    >>> unbracket_translated_title("[Treatment of sepsis in children].")
    'Treatment of sepsis in children'
    >>> unbracket_translated_title("[18F]FDG uptake in [the liver].")
    '[18F]FDG uptake in [the liver].'
    """
    if not (title.startswith("[") and title.endswith("].")):
        return title
    depth = 0
    for i, ch in enumerate(title):
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if depth == 0:
            return title[1:-2] if i == len(title) - 2 else title
    return title
