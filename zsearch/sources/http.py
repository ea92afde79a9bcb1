"""A polite HTTP client for remote sources: spaced requests, retries with backoff, clear errors.

arXiv asks for one request every 3 seconds over one connection; NCBI allows 3 requests a
second (10 with an API key). :class:`RateLimiter` spaces the *start* of consecutive
requests by a fixed interval; :class:`PoliteClient` wraps one ``httpx.Client`` (a single
keep-alive connection), waits on the limiter before every attempt, retries 429 / 5xx
responses (honouring ``Retry-After``) and transient network faults with exponential
backoff, and turns what is left into a :class:`~zsearch.errors.SourceError` that names
the page being fetched.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from zsearch.errors import SourceError

# Statuses worth another try: rate limiting and server-side trouble.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# arxiv.py retries a failed page 3 times; NCBI's own examples retry a few times too.
DEFAULT_RETRIES = 3
# first backoff in seconds, doubled per attempt (arxiv.py waits 3 s between retries)
DEFAULT_BACKOFF = 3.0
# never sleep longer than this on one Retry-After / backoff (5 minutes: a cron run moves on)
MAX_WAIT = 300.0
# seconds to connect / read one response; arXiv's large pages take ~10 s to build
DEFAULT_TIMEOUT = 60.0
USER_AGENT = "zsearch/0.1 (local literature search; https://pypi.org/project/zsearch)"


class RateLimiter:
    """Space the starts of successive calls at least ``interval`` seconds apart (thread-safe)."""

    def __init__(
        self,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = float(interval)
        self._clock = clock
        self._sleep = sleep
        self._last: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until the next call may start; return the seconds slept."""
        with self._lock:
            now = self._clock()
            slept = 0.0
            if self._last is not None:
                due = self._last + self.interval
                if due > now:
                    slept = due - now
                    self._sleep(slept)
                    now = self._clock()
            self._last = now
            return slept


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


class PoliteClient:
    """One connection, spaced requests, retries; the only way sources talk HTTP.

    ``name`` is the service's name for messages ("arXiv", "PubMed"). ``interval`` is the
    minimum spacing between request starts; ``retries`` is how many extra attempts a
    retryable failure gets; ``backoff`` is the first wait (doubled each attempt) when the
    server sends no ``Retry-After``.
    """

    def __init__(
        self,
        name: str,
        *,
        interval: float,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        timeout: float = DEFAULT_TIMEOUT,
        max_wait: float = MAX_WAIT,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self.limiter = RateLimiter(interval, sleep=sleep)
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self._sleep = sleep
        self.requests = 0  # attempts made, retries included
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            # one connection, reused: arXiv asks for no parallel connections
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def _wait_before_retry(self, attempt: int, response: httpx.Response | None) -> None:
        delay = None
        if response is not None:
            delay = parse_retry_after(response.headers.get("Retry-After"))
        if delay is None:
            delay = self.backoff * (2**attempt)
        self._sleep(min(delay, self.max_wait))

    def get(self, url: str, params: Mapping[str, Any] | None = None, *, what: str) -> httpx.Response:
        """GET with spacing and retries; ``what`` names the page for error messages.

        Returns the final response, whatever its status, when it is not retryable (callers
        read arXiv's HTTP 400 error feeds); raises :class:`SourceError` when retries run out.
        """
        last_problem = ""
        response: httpx.Response | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                self._wait_before_retry(attempt - 1, response)
            self.limiter.wait()
            self.requests += 1
            response = None
            try:
                response = self._client.get(url, params=params)
            except httpx.TimeoutException:
                last_problem = "timed out"
                continue
            except httpx.TransportError as exc:
                last_problem = f"network error ({exc.__class__.__name__}: {exc})"
                continue
            if response.status_code in RETRY_STATUSES:
                last_problem = f"HTTP {response.status_code}"
                continue
            return response
        raise SourceError(
            f"{self.name}: {what} failed: {last_problem} after {self.retries + 1} attempts",
            hint="everything fetched before this page was kept; run the command again to finish",
        )
