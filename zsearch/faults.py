"""Fault injection for the crash tests: a real process killed with a real signal at a named point.

Off unless ``ZSEARCH_KILL_AT`` is set; unset, a point costs one environment lookup.

* ``ZSEARCH_KILL_AT=POINT:N`` makes the process SIGKILL itself the N-th time it reaches
  ``POINT`` (tests/test_crash.py: a writer killed between two LanceDB commits, at the steps of
  :func:`zsearch.store.commit.commit` and ``Store.delete``).
* ``ZSEARCH_KILL_AT=POINT:NAME`` kills it at ``fault_point(POINT, name=NAME)``: on one named item
  (tests/test_pdf.py: a PDF parser worker dies on one file, as a crash inside the PDF library
  would; ``worker_only`` spares the parent, which must survive to report it).

Standard library only, imported by the store and the PDF reader alike (the lowest layer).
"""

from __future__ import annotations

import os

# Times each counted point was reached in this process.
_HITS: dict[str, int] = {}


def fault_point(point: str, name: str | None = None, *, worker_only: bool = False) -> None:
    """SIGKILL this process here if ``ZSEARCH_KILL_AT`` names this point (see the module docstring).

    >>> fault_point("nowhere.at-all")  # unset or another point: nothing happens
    """
    spec = os.environ.get("ZSEARCH_KILL_AT")
    if not spec or not spec.startswith(point + ":"):
        return
    arg = spec[len(point) + 1 :]
    if name is not None:
        if arg != name:
            return
    else:
        _HITS[point] = _HITS.get(point, 0) + 1
        if _HITS[point] != int(arg):
            return
    if worker_only:
        import multiprocessing

        if multiprocessing.parent_process() is None:
            return
    import signal

    os.kill(os.getpid(), signal.SIGKILL)
