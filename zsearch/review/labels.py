"""Theme labels: the distinctive terms and phrases of each cluster by class-based TF-IDF.

All texts of one cluster form one document (as in BERTopic's c-TF-IDF, Grootendorst 2022).
A term's weight in cluster c is its relative frequency in that document times its inverse
document frequency over the papers, ``count(t, c) / count(all terms, c) * log(N / df(t))``.
BERTopic's own idf, ``log(1 + A / f_t)``, let words common to every cluster ("patients")
head every label on the medical abstracts set, hence the paper-level idf; see docs/reviews.md.

A term may name a theme only if it is

* *distinctive*: at least :data:`MIN_LIFT` times as frequent in the cluster as in the others;
* *not shared by every theme*: a term found in at least :data:`SHARED_SHARE` of the papers
  of every cluster says nothing about any one of them ("method" in a set of mathematics);
* *not boilerplate*: not one of :data:`BOILERPLATE`, the words abstracts use for any subject
  ("results", "propose"), and not LaTeX: formulas and markup are removed before counting
  (``$\\mathbb{R}^n$``, ``\\emph{…}``, ``<i>…</i>``), so ``mathbb`` or ``frac`` never appear;
* *backed by two papers* of the cluster when it has three or more.

Terms are single words and phrases of two or three adjacent words that contain no stop word
and cross no punctuation ("finite element method", not "method, element"). The label takes
a phrase in place of its word when the phrase is nearly as distinctive
(:data:`PHRASE_SHARE`): "scalar curvature" rather than "curvature".

scikit-learn is imported inside the functions (for its English stop-word list and sparse
counting), so importing this module stays cheap.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

# Terms in a theme label: within the 2-4 a reader takes in at a glance (BERTopic shows 3-4).
LABEL_TERMS = 3
# Terms kept per theme in the output (label + context for a reader).
TOP_TERMS = 10
# A label term must be this many times as frequent (per term) in its cluster as in the
# others: 1.5 removed "patients"/"study" from every medical-abstracts label while keeping the
# class words (benchmarks/cluster.py run with the label variants, docs/reviews.md).
MIN_LIFT = 1.5
# A term in at least SHARED_SHARE of the papers of (nearly) every cluster names none of
# them; "nearly every" is SHARED_THEMES of the clusters, so that one small theme without
# "paper" in it does not let "paper" through at k = 30 (values: docs/reviews.md, "Labels").
SHARED_SHARE = 0.05
SHARED_THEMES = 0.8
# A phrase replaces its word in the label when it weighs at least this share of the word:
# 0.5 turned "element" into "finite element" and "curvature" into "scalar curvature" on the
# arXiv math set while "cancer" stayed "cancer" on the medical set (docs/reviews.md).
PHRASE_SHARE = 0.5
# Longest phrase counted (words): trigrams give "partial differential equations".
MAX_PHRASE = 3
# Letters first, then letters/digits/hyphens: keeps "covid-19", "il-6", "p-adic"; drops "0.02".
TOKEN_PATTERN = r"(?u)\b[^\W\d_][\w\-]*[^\W_]\b"
# Words any abstract uses whatever its subject: research-paper verbs and nouns that passed the
# lift test on the shared sets ("method" for numerical analysis, "model" for statistics) but
# that no researcher would write as a theme's name. Only as single words: "mixture model" and
# "finite element method" stay. Hand-picked from the labels of the shared sets (docs/reviews.md).
BOILERPLATE = frozenset(
    """
    abstract aim aims al analysis analyze analyzed approach approaches article associated
    based case cases characterize characterization compared conclusion conclusions consider
    considered data demonstrate derive derived describe described different effect effects
    establish established et evidence example examples framework further general given
    however important introduce introduced investigate investigated known main method
    methods model models new novel obtain obtained paper performance present presented problem
    problems proof propose proposed prove proved provide provided recent related report
    reported respectively result results setting show showed shown significant significantly
    similar solution solutions studied studies study technique techniques use used using
    various way work
    """.split()
)

_TOKEN = re.compile(TOKEN_PATTERN)
_MATH_WORD = re.compile(r"\$([^$]{1,12})\$-(?=[^\W\d_])")  # $p$-adic, $L$-functions, $\ell$-adic
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]", re.S)
_TEXT_CMD = re.compile(r"\\(?:emph|textit|textbf|text|textrm|mathrm|operatorname|it|bf|em)\s*\{([^{}]*)\}")
_DROP_CMD = re.compile(r"\\(?:cite[pt]?|ref|eqref|label|url|footnote)\s*\{[^{}]*\}")
_ANY_CMD = re.compile(r"\\[A-Za-z]+\*?|\\.")
_MARKUP = re.compile(r"</?[A-Za-z][^<>]{0,40}>|&[A-Za-z]+;|&#\d+;")
# Phrase boundaries: punctuation that ends a clause or a list item.
_BREAK = re.compile(r"[.,;:!?()\[\]{}\"“”'‘’/|=<>+*^_~$\\]|\s-\s|\s–\s|\s—\s")


def _math_word(m: re.Match[str]) -> str:
    """``$p$-adic`` -> ``p-adic``, ``$\\ell$-adic`` -> ``ell-adic``: a short formula before a word.

    A formula of more than one symbol keeps only its letters and digits
    (``$(\\infty,1)$-categories`` -> ``1-categories``, counted as ``categories``).
    """
    inner = m.group(1).strip()
    one = re.fullmatch(r"\\([A-Za-z]+)", inner)
    inner = one.group(1) if one else re.sub(r"[^\w]", "", _ANY_CMD.sub("", inner))
    return f"{inner}-" if inner else " "


def clean_text(text: str) -> str:
    """The prose of a title or abstract: formulas, LaTeX commands and markup removed.

    >>> clean_text(r"Let $X\\subset\\mathbb{R}^n$ be \\emph{convex}; $L$-functions <i>vanish</i>.")
    'Let   be convex; L-functions  vanish .'
    """
    t = (text or "").replace("--", "-")  # LaTeX en dash: Cohen--Macaulay
    t = _MATH_WORD.sub(_math_word, t)
    t = _MATH.sub(" ", t)
    t = _DROP_CMD.sub(" ", t)
    for _ in range(2):  # nested \emph{\textbf{x}}
        t = _TEXT_CMD.sub(r"\1", t)
    t = _ANY_CMD.sub(" ", t)
    return _MARKUP.sub(" ", t)


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def text_terms(text: str, stop: frozenset[str], max_len: int = MAX_PHRASE) -> list[str]:
    """Words and phrases of up to ``max_len`` adjacent words of ``text``, lower case.

    No stop word, no crossing of punctuation: "the finite element method, in 2D" gives
    ``finite``, ``element``, ``method``, ``finite element``, ``element method`` and
    ``finite element method``.
    """
    out: list[str] = []
    token = _TOKEN
    for segment in _BREAK.split(clean_text(text).lower()):
        run: list[str] = []
        for w in token.findall(segment) + [""]:  # "" flushes the last run
            if w and w not in stop:
                run.append(w)
                continue
            for n in range(1, max_len + 1):
                out.extend(" ".join(run[i : i + n]) for i in range(len(run) - n + 1))
            run = []
    return out


def theme_terms(
    texts: Sequence[str], assignment: Sequence[int], k: int, *, top: int = TOP_TERMS
) -> list[list[tuple[str, float]]]:
    """The ``top`` most distinctive terms of each cluster 0..k-1 by class-based TF-IDF.

    ``assignment[i]`` is the cluster of ``texts[i]``; a negative one (a paper that fits no
    cluster) counts towards the idf but towards no cluster. See the module docstring for
    the weight and the rules a term must pass. Ties are broken alphabetically; weights are
    rounded to 6 places.
    """
    from scipy.sparse import csr_matrix

    if not texts or k < 1:
        return [[] for _ in range(max(k, 0))]
    stop = _stop_words()
    vocab: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for i, text in enumerate(texts):
        for term, n in Counter(text_terms(text, stop)).items():
            rows.append(i)
            cols.append(vocab.setdefault(term, len(vocab)))
            vals.append(n)
    if not vocab:
        return [[] for _ in range(k)]
    names = np.array(sorted(vocab, key=vocab.__getitem__), dtype=object)
    counts = csr_matrix((vals, (rows, cols)), shape=(len(texts), len(vocab)), dtype=np.float64)
    assign = np.asarray(assignment)
    n_docs = counts.shape[0]
    per_class = np.zeros((k, counts.shape[1]), dtype=np.float64)
    doc_freq = np.zeros((k, counts.shape[1]), dtype=np.int64)
    sizes = np.zeros(k, dtype=np.int64)
    for c in range(k):
        members = assign == c
        sizes[c] = int(members.sum())
        part = counts[members]
        per_class[c] = np.asarray(part.sum(axis=0)).ravel()
        doc_freq[c] = np.asarray((part > 0).sum(axis=0)).ravel()
    all_df = np.asarray((counts > 0).sum(axis=0)).ravel()
    words = per_class.sum(axis=1, keepdims=True)
    tf = per_class / np.where(words == 0, 1.0, words)
    idf = np.log(n_docs / np.maximum(all_df, 1))
    score = tf * idf
    total_terms = per_class.sum(axis=0)
    allowed = np.array([not _boilerplate(t) for t in names], dtype=bool)
    if k >= 2:
        share = doc_freq / np.maximum(sizes, 1)[:, None]
        need = math.ceil(SHARED_THEMES * int((sizes > 0).sum()) - 1e-9)
        allowed &= (share >= SHARED_SHARE).sum(axis=0) < max(need, 2)
    out: list[list[tuple[str, float]]] = []
    for c in range(k):
        min_docs = 2 if sizes[c] >= 3 else 1
        ok = allowed & (doc_freq[c] >= min_docs) & (per_class[c] > 0)
        rest_words = float(words.sum() - words[c, 0])
        if k >= 2 and rest_words > 0:
            rest_tf = (total_terms - per_class[c]) / rest_words
            ok &= tf[c] >= MIN_LIFT * rest_tf
        idx = np.flatnonzero(ok).tolist()
        ranked = sorted(idx, key=lambda j: (-score[c, j], names[j]))
        out.append([(str(names[j]), round(float(score[c, j]), 6)) for j in ranked[:top]])
    return out


def _boilerplate(term: str) -> bool:
    """A boilerplate word, or a phrase led by one ("new method", "proposed scheme").

    A phrase that only ends in one stays: "finite element method", "mixture model".
    """
    w = term.split()
    return w[0] in BOILERPLATE


def _stem(word: str) -> str:
    """Crude plural folding for comparing label words: "tumors" ~ "tumor", "processes" ~ "process"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def label_from_terms(
    terms: Sequence[str] | Sequence[tuple[str, float]], n: int = LABEL_TERMS
) -> str:
    """A label of ``n`` terms: the best ones, phrases in place of their words, no repeats.

    ``terms`` are best first, plain or ``(term, weight)``. A word gives way to a phrase of
    the list that contains it and weighs at least :data:`PHRASE_SHARE` of it (weights needed);
    a term sharing a word (plurals folded) with one already taken is skipped.

    >>> label_from_terms(["heart failure", "heart", "failure", "stroke", "atrial"])
    'heart failure, stroke, atrial'
    >>> label_from_terms([("curvature", 0.02), ("scalar curvature", 0.012), ("flows", 0.01)])
    'scalar curvature, flows'
    """
    pairs = [(t, None) if isinstance(t, str) else (t[0], t[1]) for t in terms]
    chosen: list[str] = []
    seen: set[str] = set()
    for term, weight in pairs:
        if weight is not None and " " not in term:
            better = [
                (p, w) for p, w in pairs
                if w is not None and " " in p and term in p.split() and w >= PHRASE_SHARE * weight
            ]
            if better:
                term = max(better, key=lambda pw: (pw[1], pw[0]))[0]
        words = {_stem(w) for w in term.split()}
        if words & seen:
            continue
        chosen.append(term)
        seen |= words
        if len(chosen) == n:
            break
    return ", ".join(chosen)


def label_terms(terms: Iterable[tuple[str, float]]) -> list[str]:
    """The term strings of a :func:`theme_terms` entry."""
    return [t for t, _ in terms]
