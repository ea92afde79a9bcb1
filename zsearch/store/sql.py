"""SQL for LanceDB filters: string quoting and ``IN`` lists, written once.

>>> sql_in("id", ["a", "o'b"])
"id IN ('a', 'o''b')"
"""

from __future__ import annotations

from collections.abc import Iterable

# Values per ``IN (...)`` list: long lists make LanceDB's SQL planner slow.
IN_LIST_SIZE = 500


def sql_str(value: str) -> str:
    """Quote a string for a LanceDB SQL filter.

    >>> sql_str("O'Brien")
    "'O''Brien'"
    """
    return "'" + value.replace("'", "''") + "'"


def sql_in(column: str, values: Iterable[str]) -> str:
    """``column IN (...)`` for ``values``; ``false`` for none (matches nothing)."""
    vals = list(values)
    if not vals:
        return "false"
    return f"{column} IN ({', '.join(sql_str(v) for v in vals)})"


def sql_list(values: Iterable[str]) -> str:
    """A SQL array literal for ``array_has_any`` and friends.

    >>> sql_list(["cs.IR", "cs.CL"])
    "['cs.IR', 'cs.CL']"
    """
    return "[" + ", ".join(sql_str(v) for v in values) + "]"
