"""zsearch.review.cluster: determinism, choice of k, class-based TF-IDF labels."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from zsearch.errors import UsageError
from zsearch.review.cluster import (
    auto_k_range,
    best_k,
    cluster_papers,
    label_from_terms,
    prepare_vectors,
    theme_terms,
)

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
    assert got0["parasite"] == round(2 / 6 * math.log(4 / 3), 6)  # 2/6 vs 1/6 in cluster 1: lift 2
    assert terms[0][0][0] == "malaria"  # distinctive beats shared; "malaria parasite" ties, loses on name
    # cluster 1: insulin 2 of 6 terms; parasite is 1/6 here vs 2/6 in cluster 0: lift 0.5, excluded
    assert got1["insulin"] == round(2 / 6 * math.log(4 / 2), 6)
    assert "parasite" not in got1
    assert set(got1) == {"insulin", "secretion", "insulin secretion", "insulin parasite"}


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
    assert label_from_terms([]) == ""


# -- preparations -----------------------------------------------------------------------


def test_centered_vectors_have_zero_mean_direction_and_unit_length():
    x, _ = blobs(3, 5)
    y = prepare_vectors(x + 3.0, "centered")
    assert np.allclose(np.linalg.norm(y, axis=1), 1.0)
    assert np.allclose(prepare_vectors(x, "plain"), x)
