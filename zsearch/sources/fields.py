"""Numbers, years and ids read out of source text: ASCII digits only, bounded in length.

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
