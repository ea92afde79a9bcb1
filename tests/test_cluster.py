"""zsearch.review.cluster and .labels: determinism, smoothing, choice of k, "other", labels."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import unit
from zsearch.errors import UsageError
from zsearch.review.cluster import (
    auto_k_range,
    best_k,
    clear_structure,
    cluster_papers,
    nearest_neighbours,
    prepare_vectors,
    smooth_vectors,
)
from zsearch.review.labels import clean_text, label_from_terms, text_terms, theme_terms
from zsearch.review.vectors import METHODS, text_smooth_vectors, text_tfidf

DATA = Path(__file__).parent / "data" / "clustering"


def blobs(k: int, per: int, dim: int = 24, spread: float = 0.05, seed: int = 0) -> tuple[np.ndarray, list[int]]:
    """``k`` tight blobs around orthogonal unit directions (well separated by construction)."""
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for c in range(k):
        centre = np.zeros(dim)
        centre[c] = 1.0
        rows.append(centre + spread * rng.standard_normal((per, dim)))
        truth += [c] * per
    x = np.vstack(rows)
    return x / np.linalg.norm(x, axis=1, keepdims=True), truth


def scifact() -> list[dict]:
    with (DATA / "scifact_30.jsonl").open() as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture(scope="module")
def embedder():
    from zsearch.embedding.embedder import load_embedder

    return load_embedder("minilm")


@pytest.fixture(scope="module")
def scifact_vectors(embedder):
    docs = scifact()
    texts = [d["title"] + "\n\n" + d["text"] for d in docs]
    return docs, texts, embedder.encode_documents(texts)


# -- determinism ------------------------------------------------------------------------


def test_same_inputs_and_seed_give_the_same_bytes_whatever_the_input_order():
    x, _ = blobs(3, 12)
    ids = [f"doc:{i:03d}" for i in range(len(x))]
    texts = [f"alpha{i % 3} beta{i % 3} common words" for i in range(len(x))]
    a = json.dumps(cluster_papers(ids, x, texts, k=3, seed=7).to_dict(), sort_keys=True)
    b = json.dumps(cluster_papers(ids, x, texts, k=3, seed=7).to_dict(), sort_keys=True)
    perm = np.random.default_rng(1).permutation(len(x))
    c = json.dumps(
        cluster_papers([ids[i] for i in perm], x[perm], [texts[i] for i in perm], k=3, seed=7).to_dict(),
        sort_keys=True,
    )
    assert a == b == c


def test_real_abstracts_cluster_deterministically_and_by_topic(scifact_vectors):
    docs, texts, vecs = scifact_vectors
    ids = [f"scifact:{d['_id']}" for d in docs]
    r1 = cluster_papers(ids, vecs, texts, k=3, seed=42)
    r2 = cluster_papers(ids, vecs.copy(), list(texts), k=3, seed=42)
    assert json.dumps(r1.to_dict()) == json.dumps(r2.to_dict())
    # the three selection topics come back as the three themes (each theme one topic)
    topic = {f"scifact:{d['_id']}": d["topic"] for d in docs}
    for t in r1.themes:
        topics = {topic[i] for i in t.ids}
        assert len(topics) == 1, (t.label, topics)
        assert topics.pop() in " ".join(t.terms)  # the label terms name the topic
    # papers are ordered nearest the centre first
    for t in r1.themes:
        assert t.distances == sorted(t.distances)


def test_themes_are_numbered_by_size_then_first_id():
    x, _ = blobs(3, 1)
    x = np.vstack([x[:1]] * 5 + [x[1:2]] * 3 + [x[2:3]] * 3) + 1e-3 * np.arange(11)[:, None]
    ids = [f"p{i:02d}" for i in range(11)]
    c = cluster_papers(ids, x, [""] * 11, k=3, method="plain")
    assert [t.size for t in c.themes] == [5, 3, 3]
    assert min(c.themes[1].ids) < min(c.themes[2].ids)


# -- choice of k ------------------------------------------------------------------------


@pytest.mark.parametrize("planted", [3, 4, 6])
def test_auto_k_finds_the_planted_number_of_clusters(planted):
    x, truth = blobs(planted, 10, seed=planted)
    ids = [f"x{i:03d}" for i in range(len(x))]
    c = cluster_papers(ids, x, [""] * len(x), k="auto", seed=0)
    assert c.k == planted
    assert c.k_chosen_by == "silhouette"
    assert set(c.silhouette) == set(range(2, 11))
    assert max(c.silhouette, key=c.silhouette.get) == planted
    assert f"k={planted}" in c.k_reason and "silhouette" in c.k_reason
    # and it recovers the planted partition exactly
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(truth, [c.assignment[i] for i in ids]) == 1.0


def test_vectors_without_clusters_are_said_to_have_no_clear_structure():
    x = np.random.default_rng(11).standard_normal((200, 32))
    ids = [f"r{i:03d}" for i in range(200)]
    c = cluster_papers(ids, x, [""] * 200, k="auto", seed=0, n_init=3)
    assert c.k_chosen_by == "no clear structure"
    assert "no clear structure" in c.k_reason and f"k={c.k}" in c.k_reason


def test_a_given_k_is_kept_exactly():
    x = np.random.default_rng(12).standard_normal((120, 16))
    ids = [f"r{i:03d}" for i in range(120)]
    for k in (2, 7, 13):
        c = cluster_papers(ids, x, [""] * 120, k=k, seed=0)
        assert c.k == k and len({t for t in c.assignment.values() if t}) == k and c.k_reason == f"k={k}: given"


def test_best_k_breaks_ties_towards_fewer_themes():
    assert best_k({2: 0.5, 3: 0.7, 4: 0.7}) == 3


def test_auto_k_range_is_capped_by_the_number_of_papers():
    assert auto_k_range(50) == list(range(2, 11))
    assert auto_k_range(5) == [2, 3, 4]
    assert auto_k_range(2) == []


def test_too_few_papers_for_auto_k_gives_one_theme():
    c = cluster_papers(["a", "b"], np.eye(2), ["x", "y"], k="auto")
    assert c.k == 1 and c.k_chosen_by == "too few papers"
    assert c.themes[0].size == 2


def test_bad_k_and_duplicate_ids_are_usage_errors():
    with pytest.raises(UsageError):
        cluster_papers(["a", "b"], np.eye(2), ["", ""], k=3)
    with pytest.raises(UsageError):
        cluster_papers(["a", "a"], np.eye(2), ["", ""], k=1)
    with pytest.raises(UsageError):
        prepare_vectors(np.eye(2), "nonsense")


# -- labels -----------------------------------------------------------------------------


def test_ctfidf_weights_follow_the_formula():
    texts = ["malaria parasite", "malaria parasite", "insulin secretion", "insulin parasite"]
    terms = theme_terms(texts, [0, 0, 1, 1], 2, top=20)
    got0, got1 = dict(terms[0]), dict(terms[1])
    # cluster 0 has 6 terms: malaria 2, parasite 2, "malaria parasite" 2; N = 4 papers
    assert got0["malaria"] == round(2 / 6 * math.log(4 / 2), 6)
    assert got0["malaria parasite"] == round(2 / 6 * math.log(4 / 2), 6)
    assert terms[0][0][0] == "malaria"  # ties with "malaria parasite", wins on name
    # cluster 1: insulin 2 of 6 terms
    assert got1["insulin"] == round(2 / 6 * math.log(4 / 2), 6)
    # "parasite" is in 2 of 2 papers of cluster 0 and 1 of 2 of cluster 1: at least
    # SHARED_SHARE (5%) of the papers of every theme, so it names neither
    assert "parasite" not in got0 and "parasite" not in got1
    assert set(got1) == {"insulin", "secretion", "insulin secretion", "insulin parasite"}


def test_a_word_in_papers_of_every_theme_names_none():
    texts = ["sleep apnea in patients", "sleep apnea", "stroke in patients", "stroke"]
    terms = theme_terms(texts, [0, 0, 1, 1], 2)
    assert [t for t, _ in terms[0]] == ["apnea", "sleep", "sleep apnea"]  # equal weights: by name
    assert [t for t, _ in terms[1]] == ["stroke"]
    # "patients" is in half the papers of both themes
    assert all("patients" != t for ts in terms for t, _ in ts)


def test_boilerplate_words_and_phrases_led_by_one_do_not_name_a_theme():
    texts = ["we propose a new method for sparse graphs", "a new method for sparse graphs",
             "convex bodies in the plane", "convex bodies"]
    got = [t for t, _ in theme_terms(texts, [0, 0, 1, 1], 2, top=20)[0]]
    assert "sparse graphs" in got and "graphs" in got
    assert not {"method", "new", "new method", "propose", "method sparse"} & set(got)


def test_latex_and_markup_never_become_terms():
    text = (r"Let $X\subset\mathbb{R}^n$ be \emph{convex}; the $L$-functions of $\ell$-adic "
            r"sheaves \cite{Del80} <i>vanish</i> at $s=\frac{1}{2}$, see Cohen--Macaulay rings.")
    cleaned = clean_text(text)
    for junk in ("mathbb", "subset", "emph", "cite", "Del80", "frac", "<i>", "$"):
        assert junk not in cleaned
    terms = text_terms(text, frozenset({"let", "be", "the", "of", "at", "see"}))
    assert {"convex", "l-functions", "ell-adic sheaves", "cohen-macaulay rings", "vanish"} <= set(terms)
    assert not any(w in t for t in terms for w in ("mathbb", "frac", "cite"))


def test_phrases_never_cross_punctuation_or_stop_words():
    terms = text_terms("The finite element method, in two dimensions; heart failure of patients.",
                       frozenset({"the", "in", "of"}))
    assert "finite element method" in terms and "element method" in terms
    assert "method two" not in terms and "failure patients" not in terms
    assert "two dimensions" in terms and "heart failure" in terms


def test_labels_use_the_clusters_own_distinctive_terms_not_shared_or_stop_words(scifact_vectors):
    docs, texts, vecs = scifact_vectors
    ids = [d["_id"] for d in docs]
    c = cluster_papers(ids, vecs, texts, k=3)
    topic = {d["_id"]: d["topic"] for d in docs}
    for t in c.themes:
        own = topic[t.ids[0]]
        others = {"tuberculosis", "malaria", "insulin"} - {own}
        assert own in t.label
        assert not any(o in " ".join(t.terms) for o in others)
        # every label term occurs in this theme's texts
        members = " ".join(texts[ids.index(i)].lower() for i in t.ids)
        for term in t.label.split(", "):
            assert all(w in members for w in term.split())
        assert not {"the", "of", "and", "with"} & set(" ".join(t.terms).split())


def test_a_term_from_one_paper_only_does_not_name_a_theme():
    texts = ["zebrafish heart", "heart valve", "heart valve", "kidney stone", "kidney stone"]
    terms = theme_terms(texts, [0, 0, 0, 1, 1], 2)
    assert "zebrafish" not in dict(terms[0])
    assert terms[0][0][0].startswith("heart") or terms[0][0][0] == "valve"


def test_label_from_terms_skips_terms_sharing_a_word():
    assert label_from_terms(["sleep apnea", "apnea", "sleep", "snoring", "airway", "cpap"]) == (
        "sleep apnea, snoring, airway"
    )
    assert label_from_terms(["tumor", "tumors", "cancer", "processes", "process"]) == "tumor, cancer, processes"
    assert label_from_terms([]) == ""


def test_a_phrase_takes_its_words_place_when_it_weighs_at_least_half_as_much():
    # PHRASE_SHARE = 0.5: 0.012 >= 0.5 * 0.02, so "scalar curvature" replaces "curvature";
    # "ricci flow" (0.004 < 0.5 * 0.015) does not replace "flow"
    terms = [("curvature", 0.02), ("flow", 0.015), ("scalar curvature", 0.012), ("manifolds", 0.011),
             ("ricci flow", 0.004)]
    assert label_from_terms(terms) == "scalar curvature, flow, manifolds"


def test_real_arxiv_labels_hold_no_latex(embedder):
    """125 real arXiv abstracts (CC0) full of $\\pi$, \\alpha, \\rm: no command becomes a term."""
    import re

    with (DATA / "arxiv_kaggle_125.jsonl").open() as fh:
        docs = [json.loads(line) for line in fh]
    texts = [d["title"] + "\n\n" + d["abstract"] for d in docs]
    everything = "\n".join(texts)
    commands = {m.lower() for m in re.findall(r"\\([A-Za-z]+)", everything)}
    assert {"alpha", "pi", "rm"} <= commands
    # command names that occur only as commands, never as words of the prose
    only = {m for m in commands if not re.search(rf"(?<![\\\w]){m}\b", everything, re.I)}
    assert {"rm", "mathbb", "sqrt"} <= only
    c = cluster_papers([d["id"] for d in docs], embedder.encode_documents(texts), texts, k=4)
    words = {w for t in c.themes for term in t.terms for w in term.split()}
    assert len(words) > 20 and not words & only, words & only


# -- preparations -----------------------------------------------------------------------


def test_centered_vectors_have_zero_mean_direction_and_unit_length():
    x, _ = blobs(3, 5)
    y = prepare_vectors(x + 3.0, "centered")
    assert np.allclose(np.linalg.norm(y, axis=1), 1.0)
    assert np.allclose(prepare_vectors(x, "plain"), x)


def test_nearest_neighbours_match_a_full_sort_with_ties_to_the_lower_row():
    x = np.random.default_rng(3).standard_normal((700, 16))
    x[5] = x[9]  # rows 5 and 9 tie as neighbours of every other row
    got = nearest_neighbours(x, 7, block=64)
    y = x / np.linalg.norm(x, axis=1, keepdims=True)
    sim = y @ y.T
    np.fill_diagonal(sim, -np.inf)
    assert (got == np.argsort(-sim, axis=1, kind="stable")[:, :7]).all()


# -- many papers: themes from a sample, every paper assigned in batches -----------------


def test_a_large_set_is_clustered_from_a_sample_and_every_paper_assigned(monkeypatch):
    from zsearch.review import cluster_stream
    from zsearch.review.cluster_stream import Sample, cluster_streamed

    monkeypatch.setattr(cluster_stream, "FIT_SAMPLE", 60)
    x, truth = blobs(3, 100, seed=5)
    ids = [f"p{i:04d}" for i in range(len(x))]
    texts = [f"topic{t} words{t} shared" for t in truth]

    def run(order):
        sample = Sample(seed=7)
        for start in range(0, len(order), 37):  # batches of 37, in the given order
            part = order[start : start + 37]
            sample.offer([ids[i] for i in part], x[part], lambda j, p=part: texts[p[j]])
        assert len(sample) == 60

        def batches():
            for start in range(0, len(order), 50):
                part = order[start : start + 50]
                yield [ids[i] for i in part], x[part]

        return cluster_streamed([ids[i] for i in order], sample, batches, k=3, seed=7)

    c = run(np.arange(len(x)))
    assert sorted(c.assignment) == sorted(ids) and sum(t.size for t in c.themes) == len(ids)
    assert c.sample == 60 and c.total == 300 and "sample of 60 of the 300 papers" in c.k_reason
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(truth, [c.assignment[i] for i in ids]) == 1.0
    for t in c.themes:
        assert t.distances == sorted(t.distances)
        assert len({truth[ids.index(i)] for i in t.ids}) == 1 and t.label.startswith(("topic", "words"))
    # the sample and the themes do not depend on the table's order
    perm = np.random.default_rng(0).permutation(len(x))
    assert json.dumps(run(perm).to_dict()) == json.dumps(c.to_dict())


def test_clear_structure_needs_a_k_that_stands_out():
    # FLAT_SILHOUETTE = 0.05: best minus the median of the k tried
    assert clear_structure({2: 0.30, 3: 0.62, 4: 0.31})
    assert not clear_structure({2: 0.18, 3: 0.17, 4: 0.185, 5: 0.17})


def test_smoothing_keeps_unit_length_and_pulls_a_blob_together():
    x, truth = blobs(2, 20, spread=0.3, seed=4)
    y = smooth_vectors(x, 5, 2)
    assert np.allclose(np.linalg.norm(y, axis=1), 1.0)
    t = np.array(truth)

    def within(z):  # mean cosine between papers of the same blob
        z = z / np.linalg.norm(z, axis=1, keepdims=True)
        s = z @ z.T
        return s[t[:, None] == t[None, :]].mean()

    assert within(y) > within(prepare_vectors(x, "centered"))


def test_text_smoothing_takes_the_neighbour_the_words_point_to():
    # Ten papers; paper 0's embedding is nearest paper 1's, but paper 0 shares two rare terms
    # with paper 2 only. With one neighbour (10 // 5 = 2 allowed, 1 asked) and one step,
    # y0 = unit(0.5 * c0 + c2): the TF-IDF part (weight 0.65) outvotes the embedding (0.35).
    rng = np.random.default_rng(0)
    x = unit(rng.standard_normal((10, 8)))
    x[1] = unit(x[0] + 0.05 * rng.standard_normal(8))
    texts = ["symplectic kahler"] + [f"topic{i} common{i} topic{i}x" for i in range(1, 10)]
    texts[2] = "symplectic kahler quiver"
    texts[3] = "quiver topic3 common3"
    got = text_smooth_vectors(x, texts, 1, 1)
    c = unit(x - x.mean(axis=0))
    assert np.allclose(got[0], unit(0.5 * c[0] + c[2]))
    # the embedding alone (dense weight 1) picks paper 1
    assert np.allclose(text_smooth_vectors(x, texts, 1, 1, dense_weight=1.0)[0], unit(0.5 * c[0] + c[1]))
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0)


def test_text_smoothing_weights_neighbours_by_their_similarity():
    # Two neighbours with similarities s1, s2: y0 = unit(0.5 c0 + (s1 c_a + s2 c_b) / (s1 + s2)).
    x, _ = blobs(2, 10, spread=0.3, seed=2)
    texts = [f"w{i % 4} v{i % 3} u{i % 5}" for i in range(len(x))]
    got = text_smooth_vectors(x, texts, 2, 1)
    c = unit(x - x.mean(axis=0))
    tf = text_tfidf(texts).toarray()
    sim = 0.35 * (c @ c.T) + 0.65 * (tf @ tf.T)
    np.fill_diagonal(sim, -np.inf)
    a, b = np.argsort(-sim[0], kind="stable")[:2]
    w = np.array([sim[0, a], sim[0, b]])
    assert np.allclose(got[0], unit(0.5 * c[0] + (w[0] * c[a] + w[1] * c[b]) / w.sum()))


def test_text_smoothing_without_shared_words_is_dense_smoothing():
    x, _ = blobs(3, 10, spread=0.3, seed=1)
    assert text_tfidf([f"only{i}" for i in range(len(x))]) is None
    want = smooth_vectors(x)
    assert np.allclose(text_smooth_vectors(x, [f"only{i}" for i in range(len(x))]), want)
    assert np.allclose(text_smooth_vectors(x, None), want)
    assert np.allclose(prepare_vectors(x, "smoothed-dense"), want)
    assert "smoothed-dense" in METHODS


def test_k_given_is_exact_and_the_default_is_byte_identical_with_texts():
    x, truth = blobs(4, 15, spread=0.4, seed=3)
    ids = [f"p{i:03d}" for i in range(len(x))]
    texts = [f"word{t} term{t} shared text {i}" for i, t in enumerate(truth)]
    for k in (2, 5, 9):
        c = cluster_papers(ids, x, texts, k=k, seed=11)
        assert c.k == k and len(c.themes) == k and c.method == "smoothed"
        assert json.dumps(cluster_papers(ids, x, texts, k=k, seed=11).to_dict()) == json.dumps(c.to_dict())
