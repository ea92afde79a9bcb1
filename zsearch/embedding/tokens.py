"""Token ids as the model sees them: prompts, special tokens, a custom suffix, windows, counts.

We build the token ids ourselves from the model's prompts, tokenizer and special tokens, plus
any suffix the model's custom module appends in ``tokenize()`` (zembed-1 appends
``<|im_end|>\\n`` there, which sentence-transformers >= 5.4 no longer calls). The ids are
therefore the same whatever sentence-transformers version (or runner) is installed
(tests/test_tiny_models.py checks them). Nothing here needs torch: only a Hugging Face
tokenizer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from zsearch.embedding.profiles import DOCUMENT_PROMPT_NAMES, QUERY_PROMPT_NAMES

log = logging.getLogger(__name__)

# Window overlap for long texts: 1/8 of the window (32 of MiniLM's 256 tokens), so a
# sentence cut at one window's edge is whole in the next.
WINDOW_OVERLAP_FRACTION = 0.125
# Texts tokenised per background step: ~1-2 s of CPU tokenisation for full papers, so the
# next group is ready before the GPU finishes the current one.
TOKENIZE_GROUP = 256
# The text a custom input module's tokenize() is asked about to learn what it appends.
PROBE_TEXT = "zsearch probe text"


def choose_prompts(prompts: Mapping[str, str] | None, default_name: str | None = None) -> dict[str, str]:
    """The query and document prompt strings from a model's configured ``prompts``.

    >>> choose_prompts({"query": "Q: ", "passage": "P: "})
    {'query': 'Q: ', 'document': 'P: '}
    >>> choose_prompts({"query": "Q: ", "doc": "D: "}, default_name="doc")
    {'query': 'Q: ', 'document': 'D: '}
    """
    prompts = dict(prompts or {})
    q = next((prompts[n] for n in QUERY_PROMPT_NAMES if n in prompts), "")
    d = next((prompts[n] for n in DOCUMENT_PROMPT_NAMES if n in prompts), None)
    if d is None:  # no document prompt: the model's default prompt, as encode() would use
        d = prompts.get(default_name, "") if default_name else ""
    return {"query": q or "", "document": d or ""}


def tail_special_count(tokenizer: Any) -> int:
    """How many special ids the tokenizer appends after the text (BERT's [SEP], an EOS)."""
    with_sp = tokenizer("a", add_special_tokens=True)["input_ids"]
    without = tokenizer("a", add_special_tokens=False)["input_ids"]
    for k in range(len(with_sp) - len(without) + 1):
        if with_sp[k : k + len(without)] == without:
            return len(with_sp) - k - len(without)
    return 0


def split_tail(ids: list[int], n_tail: int) -> tuple[list[int], list[int]]:
    """Split ``n_tail`` trailing special ids off a token id list.

    >>> split_tail([101, 7, 8, 102], 1)
    ([101, 7, 8], [102])
    """
    return (ids[: len(ids) - n_tail], ids[len(ids) - n_tail :]) if n_tail else (ids, [])


def custom_suffix(
    tokenizer: Any, module_ids: Sequence[int] | None, probe: str = PROBE_TEXT, module: str = "input module"
) -> tuple[str, list[int]]:
    """Text and ids a custom input module appends in its own ``tokenize()`` (zembed-1: ``<|im_end|>\\n``).

    ``module_ids``: what that module's ``tokenize()`` gives for ``probe`` (``None``: the model
    has no such module). sentence-transformers >= 5.4 calls ``preprocess()`` and skips an
    overridden ``tokenize()``, dropping what it adds; comparing its output with the plain
    tokenizer tells us what to append ourselves.
    """
    if module_ids is None:
        return "", []
    got = [int(x) for x in module_ids]
    plain = tokenizer(probe, add_special_tokens=True)["input_ids"]
    body, tail = split_tail(plain, tail_special_count(tokenizer))
    if got[: len(body)] != body:
        log.warning("%s.tokenize() changes the text itself; using it as is", module)
        return "", []
    rest = got[len(body) :]
    if tail and rest[-len(tail) :] == tail:
        rest = rest[: -len(tail)]
    return tokenizer.decode(rest), rest


def pad_token_id(tokenizer: Any) -> int:
    """The id that pads a batch: the tokenizer's pad token, else EOS, else UNK, else 0."""
    for cand in (tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id, 0):
        if cand is not None:
            return int(cand)
    return 0  # pragma: no cover


@dataclass
class LateLayout:
    """A document's model inputs for late pooling (:meth:`Tokens.late_layout`).

    ``windows[0]`` is the document's own input, exactly as :meth:`Tokens.ids_and_counts` gives
    it (its pooled vector is the document vector); sentences past its end fill further windows
    of whole sentences. ``spans[j] = (window, start, end)``: where sentence ``j``'s tokens sit.
    ``count``: the document's untruncated token count (what :meth:`Tokens.count` gives).
    """

    count: int
    windows: list[list[int]]
    spans: list[tuple[int, int, int]]


@dataclass
class Template:
    """How one side (query/document) turns a text into token ids for this model."""

    prompt: str  # prepended to the text before tokenising (as sentence-transformers does)
    lead: int  # ids before the text: special tokens + prompt
    tail: list[int] = field(default_factory=list)  # special ids the tokenizer appends (SEP, EOS)
    suffix: list[int] = field(default_factory=list)  # ids the model's custom module appends

    @property
    def overhead(self) -> int:
        return self.lead + len(self.tail) + len(self.suffix)


class Tokens:
    """A model's tokenizer with its prompts, suffix and context: exact ids, counts, windows."""

    def __init__(self, tokenizer: Any, prompts: Mapping[str, str], suffix_ids: Sequence[int], max_tokens: int):
        self.tokenizer = tokenizer
        self.max_tokens = int(max_tokens)
        n_tail = tail_special_count(tokenizer)
        self.templates: dict[str, Template] = {}
        for kind in ("query", "document"):
            with_prompt = tokenizer(prompts[kind], add_special_tokens=True)["input_ids"]
            body, tail = split_tail(with_prompt, n_tail)
            self.templates[kind] = Template(prompts[kind], len(body), tail, list(suffix_ids))

    @property
    def doc_token_limit(self) -> int:
        """Most text tokens (as :meth:`count` counts them) one document vector covers."""
        return self.max_tokens - self.templates["document"].overhead

    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text without truncation, special tokens and prompts excluded."""
        if not texts:
            return []
        enc = self.tokenizer(list(texts), add_special_tokens=False, truncation=False, verbose=False)
        return [len(ids) for ids in enc["input_ids"]]

    def windows(self, text: str, size: int | None = None, overlap: int | None = None) -> list[str]:
        """Cut ``text`` into overlapping windows of ``size`` tokens, as substrings of ``text``.

        The default window fits the model with its prompt and special tokens; consecutive
        windows share ``overlap`` tokens. A text that fits gives one window: itself.
        """
        size = size or self.doc_token_limit
        overlap = int(size * WINDOW_OVERLAP_FRACTION) if overlap is None else overlap
        if size <= overlap:
            raise ValueError("window size must exceed the overlap")
        enc = self.tokenizer(
            text, add_special_tokens=False, truncation=False, return_offsets_mapping=True, verbose=False
        )
        offsets = enc["offset_mapping"]
        if len(offsets) <= size:
            return [text] if text.strip() else []
        out: list[str] = []
        step = size - overlap
        for start in range(0, len(offsets), step):
            end = min(start + size, len(offsets))
            out.append(text[offsets[start][0] : offsets[end - 1][1]])
            if end == len(offsets):
                break
        return out

    def ids_and_counts(self, texts: Sequence[str], kind: str) -> tuple[list[list[int]], list[int]]:
        """The exact ids the model sees for each text, and each text's untruncated token count.

        Over-long texts are cut in their body; the prompt, the tokenizer's closing special
        tokens and the model's suffix are always kept (last-token pooling reads the end).
        """
        t = self.templates[kind]
        if not texts:
            return [], []
        enc = self.tokenizer(
            [t.prompt + x for x in texts],
            add_special_tokens=True,
            truncation=False,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,
        )["input_ids"]
        cap = self.max_tokens - len(t.tail) - len(t.suffix)
        ntail = len(t.tail)
        ids_out, counts = [], []
        for ids in enc:
            body = ids[: len(ids) - ntail] if ntail else ids
            counts.append(max(0, len(body) - t.lead))
            ids_out.append(body[:cap] + t.tail + t.suffix)
        return ids_out, counts

    def late_layout(self, docs: Sequence[str], sentences: Sequence[Sequence[str]]) -> list[LateLayout | None]:
        """Where each sentence of each document sits in the document's own model input.

        ``sentences[i]`` must be ``docs[i]`` cut into consecutive pieces (white space aside). A
        document gets a layout only when its tokens are exactly its sentences' tokens end to end
        (true of BERT's WordPiece, whose words never cross white space; checked, not assumed) and
        every sentence fits one window; otherwise None, and the caller encodes its sentences one
        by one. Each text is tokenised once.

        >>> class Split:  # a toy tokenizer: one id per word (10 + its length), [1] and [2] around the text
        ...     def __call__(self, texts, add_special_tokens=True, **kw):
        ...         words = lambda t: [10 + len(w) for w in t.split()]
        ...         wrap = (lambda ids: [1, *ids, 2]) if add_special_tokens else (lambda ids: ids)
        ...         return {"input_ids": [wrap(words(t)) for t in texts]} if isinstance(texts, list) else {"input_ids": wrap(words(texts))}
        >>> t = Tokens(Split(), {"query": "", "document": ""}, [], max_tokens=5)
        >>> lay = t.late_layout(["aa bbb. cccc ddd. e"], [["aa bbb.", "cccc ddd.", "e"]])[0]
        >>> lay.windows, lay.spans, lay.count
        ([[1, 12, 14, 14, 2], [1, 14, 14, 11, 2]], [(0, 1, 3), (1, 1, 3), (1, 3, 4)], 5)
        """
        t = self.templates["document"]
        doc_ids, counts = self.ids_and_counts(docs, "document")
        flat = [x for ss in sentences for x in ss]
        enc = self.tokenizer(flat, add_special_tokens=False, truncation=False, verbose=False)["input_ids"] if flat else []
        cap = self.doc_token_limit  # text tokens one window holds
        out: list[LateLayout | None] = []
        at = 0
        for ids, n, ss in zip(doc_ids, counts, sentences):
            parts = [list(x) for x in enc[at : at + len(ss)]]
            at += len(ss)
            end_at = len(ids) - len(t.tail) - len(t.suffix)
            body = ids[t.lead : end_at]
            joined = [x for part in parts for x in part]
            if not parts or len(joined) != n or joined[: len(body)] != body or any(not 0 < len(x) <= cap for x in parts):
                out.append(None)
                continue
            lead, end = ids[: t.lead], ids[end_at:]
            windows, spans, pos, j = [list(ids)], [], 0, 0
            while j < len(parts) and pos + len(parts[j]) <= len(body):  # the sentences the document input holds
                spans.append((0, t.lead + pos, t.lead + pos + len(parts[j])))
                pos += len(parts[j])
                j += 1
            while j < len(parts):  # the rest: as many whole sentences per window as fit
                cur: list[int] = []
                while j < len(parts) and len(cur) + len(parts[j]) <= cap:
                    spans.append((len(windows), t.lead + len(cur), t.lead + len(cur) + len(parts[j])))
                    cur += parts[j]
                    j += 1
                windows.append(lead + cur + end)
            out.append(LateLayout(n, windows, spans))
        return out

    def groups_ahead(self, texts: list[str], kind: str) -> Iterator[tuple[int, list[list[int]], list[int]]]:
        """``(start, ids, counts)`` group by group, the next group tokenised in a thread meanwhile.

        The Rust tokenizer releases the GIL, so the next group is ready when the model
        finishes the current one.
        """
        starts = list(range(0, len(texts), TOKENIZE_GROUP))
        if len(starts) == 1:
            ids, cnt = self.ids_and_counts(texts, kind)
            yield 0, ids, cnt
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="zsearch-tok") as pool:
            pending = pool.submit(self.ids_and_counts, texts[0:TOKENIZE_GROUP], kind)
            for n, start in enumerate(starts):
                ids, cnt = pending.result()
                if n + 1 < len(starts):
                    nxt = starts[n + 1]
                    pending = pool.submit(self.ids_and_counts, texts[nxt : nxt + TOKENIZE_GROUP], kind)
                yield start, ids, cnt
