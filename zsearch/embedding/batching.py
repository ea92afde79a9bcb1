"""Token-budget batches: which texts share a forward pass, and the queue that runs them.

Texts are sorted by length and grouped under a *token budget* (padded tokens per forward, not
a fixed batch size), so a batch pads only to its own longest text (:func:`token_budget_batches`).
:func:`run_batches` feeds the batches to a runner's replicas (one thread per device, one
queue); an out-of-memory error halves the budget and requeues the batch in smaller parts
instead of dying. Nothing here knows torch: a runner raises :class:`OutOfMemory`.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from zsearch.errors import ZsearchError

log = logging.getLogger(__name__)

# Padded tokens per forward batch on CPU: 4k (16 × 256 for MiniLM). benchmarks/embed.py
# --device cpu sweeps (docs/benchmarks.md): 4k-8k fastest, 16k 6% and 64k 15% slower than 4k
# (smaller activations stay in cache); 4k also pads least when lengths vary (0.7% vs 2.2% at
# 16k on 1,000 SciFact abstracts).
DEFAULT_TOKEN_BUDGET = 4096
# From this length up, texts on a GPU share a batch only with texts of the same length (papers
# cut at --max-tokens, say): a padded batch makes transformers pass SDPA an explicit mask, which
# rules out its flash kernel — on an H100 a mixed-length corpus (256-32k tokens) ran at 14% MFU
# with padded long batches and 25% with this rule. Below 4k attention is a small share of FLOPs.
GPU_EXACT_LENGTH_FROM = 4096
# Never halve the budget below this many tokens after an out-of-memory error.
MIN_TOKEN_BUDGET = 512
# A batch never holds more texts than this (keeps pooling/normalise tensors small for
# very short texts such as queries or titles).
MAX_BATCH_TEXTS = 512

# (replica, texts' ids) -> vectors, one row per text
Forward = Callable[[int, list[list[int]]], np.ndarray]


class OutOfMemory(Exception):
    """A runner's batch did not fit its device (the runner has already freed what it could)."""


def token_budget_batches(
    lengths: Sequence[int],
    budget: int,
    max_batch: int = MAX_BATCH_TEXTS,
    exact_from: int | None = None,
) -> list[list[int]]:
    """Group indices, longest first, so each batch's padded size (n × longest) fits ``budget``.

    Sorting by length means each batch pads to nearly its own length: no padding waste. A
    text longer than the budget gets a batch of its own. Texts of ``exact_from`` tokens or
    more share a batch only with texts of exactly their length (no padding at all).

    >>> token_budget_batches([10, 300, 20, 290], budget=600)
    [[1, 3], [2, 0]]
    >>> token_budget_batches([300, 300, 290, 20], budget=1000, exact_from=100)
    [[0, 1], [2], [3]]
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    cur: list[int] = []
    cur_max = 0
    for i in order:
        n = max(1, lengths[i])
        new_max = max(cur_max, n)
        uneven = exact_from is not None and cur_max >= exact_from and n != cur_max
        if cur and (new_max * (len(cur) + 1) > budget or len(cur) >= max_batch or uneven):
            batches.append(cur)
            cur, new_max = [], n
        cur.append(i)
        cur_max = new_max
    if cur:
        batches.append(cur)
    return batches


def padded_tokens(lengths: Sequence[int], batches: Sequence[Sequence[int]]) -> int:
    """Tokens the model computes for ``batches``, padding included (n × longest per batch).

    >>> padded_tokens([10, 300, 20, 290], [[1, 3], [2, 0]])
    640
    """
    return sum(len(b) * max(lengths[i] for i in b) for b in batches if b)


def pad_batch(batch_ids: Sequence[Sequence[int]], pad_id: int, left: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(input_ids, attention_mask)``, int64 ``n × longest``, padded on the tokenizer's side.

    >>> ids, mask = pad_batch([[5, 6, 7], [8]], pad_id=0, left=True)
    >>> ids.tolist(), mask.tolist()
    ([[5, 6, 7], [0, 0, 8]], [[1, 1, 1], [0, 0, 1]])
    """
    n, width = len(batch_ids), max(len(x) for x in batch_ids)
    input_ids = np.full((n, width), pad_id, dtype=np.int64)
    mask = np.zeros((n, width), dtype=np.int64)
    for row, x in enumerate(batch_ids):
        if left:
            input_ids[row, width - len(x) :] = x
            mask[row, width - len(x) :] = 1
        else:
            input_ids[row, : len(x)] = x
            mask[row, : len(x)] = 1
    return input_ids, mask


@dataclass
class Budget:
    """Padded tokens per batch, lowered by out-of-memory back-off; shared by a model's calls."""

    tokens: int
    # texts this long or longer batch only with texts of their exact length (None: never)
    exact_from: int | None = None
    oom_retries: int = 0  # how often an out-of-memory error halved the budget
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def batches(self, lengths: Sequence[int]) -> list[list[int]]:
        return token_budget_batches(lengths, self.tokens, exact_from=self.exact_from)


def run_batches(
    ids: list[list[int]],
    out: np.ndarray,
    forward: Forward,
    budget: Budget,
    devices: Sequence[str],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Embed ``ids`` into ``out`` (same order) in token-budget batches, one worker per device.

    ``forward(replica, batch_ids)`` runs one batch on ``devices[replica]``; when it raises
    :class:`OutOfMemory` the budget is halved and the batch requeued in parts (a single text
    that does not fit is a :class:`ZsearchError`). ``progress(n_texts, n_tokens)`` follows
    each batch.
    """
    lengths = [len(x) for x in ids]
    queue: deque[list[int]] = deque(budget.batches(lengths))

    def one(r: int, batch: list[int]) -> np.ndarray | None:
        """Vectors of ``batch`` on replica ``r``; on OOM halve the budget, requeue, return None."""
        try:
            return forward(r, [ids[i] for i in batch])
        except OutOfMemory as exc:
            longest = max(lengths[i] for i in batch)
            if len(batch) == 1:
                raise ZsearchError(
                    f"out of memory embedding one text of {longest} tokens on {devices[r]}",
                    hint="lower --max-tokens, or use a GPU with more memory",
                ) from exc
            with budget.lock:
                budget.tokens = max(MIN_TOKEN_BUDGET, min(budget.tokens, len(batch) * longest) // 2)
                budget.oom_retries += 1
                parts = budget.batches([lengths[i] for i in batch])
                if len(parts) == 1:  # the budget no longer splits it: one text per batch
                    parts = [[k] for k in range(len(batch))]
                for part in reversed(parts):
                    queue.appendleft([batch[k] for k in part])
            log.warning(
                "out of memory on %s with %d texts × %d tokens; token budget now %d",
                devices[r], len(batch), longest, budget.tokens,
            )
            return None

    if len(devices) == 1:
        while queue:
            batch = queue.popleft()
            vecs = one(0, batch)
            if vecs is not None:
                out[batch] = vecs
                if progress:
                    progress(len(batch), sum(lengths[i] for i in batch))
        return

    # one thread per replica (GPU), all pulling batches from one queue; the GIL is released
    # inside the kernels
    errors: list[BaseException] = []

    def worker(r: int) -> None:
        while not errors:
            with budget.lock:
                if not queue:
                    return
                batch = queue.popleft()
            try:
                vecs = one(r, batch)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
                errors.append(exc)
                return
            if vecs is not None:
                with budget.lock:
                    out[batch] = vecs
                    if progress:
                        progress(len(batch), sum(lengths[i] for i in batch))

    while queue and not errors:
        threads = [threading.Thread(target=worker, args=(r,)) for r in range(len(devices))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        raise errors[0]
