"""RRF checked against values computed by hand (Cormack et al. 2009: 1/(k + rank))."""

import pytest

from zsearch.search.fusion import RRF_K, ranked, rrf


def test_rrf_sums_reciprocal_ranks():
    fused = rrf({"dense": ["d1", "d2", "d3"], "bm25": ["d3", "d1"]})
    assert fused["d1"] == 1 / (60 + 1) + 1 / (60 + 2)
    assert fused["d2"] == 1 / (60 + 2)
    assert fused["d3"] == 1 / (60 + 3) + 1 / (60 + 1)
    assert RRF_K == 60


def test_rrf_order_and_ties():
    fused = rrf({"a": ["x", "y"], "b": ["y", "x"]})
    assert fused["x"] == fused["y"] == 1 / 61 + 1 / 62
    # ties are broken by id, so output is deterministic
    assert ranked(fused) == [("x", 1 / 61 + 1 / 62), ("y", 1 / 61 + 1 / 62)]


def test_rrf_weights_and_custom_k():
    fused = rrf({"dense": ["a"], "bm25": ["b", "a"]}, k=10, weights={"dense": 2.0, "bm25": 0.5})
    assert fused["a"] == 2.0 / (10 + 1) + 0.5 / (10 + 2)
    assert fused["b"] == 0.5 / (10 + 1)


def test_rrf_zero_weight_drops_list_and_repeats_count_once():
    fused = rrf({"dense": ["a", "a", "b"], "bm25": ["c"]}, weights={"bm25": 0})
    assert fused == {"a": 1 / 61, "b": 1 / 62}


def test_rrf_empty():
    assert rrf({}) == {}
    assert rrf({"dense": []}) == {}


def test_minmax_by_hand():
    from zsearch.search.fusion import minmax

    assert minmax({"a": 3.0, "b": 1.0, "c": 2.0}) == {"a": 1.0, "b": 0.0, "c": 0.5}
    assert minmax({"a": 5.0, "b": 5.0}) == {"a": 1.0, "b": 1.0}  # all equal: all count fully
    assert minmax({}) == {}


def test_convex_by_hand():
    from zsearch.search.fusion import convex

    fused = convex({"dense": {"a": 0.9, "b": 0.5, "c": 0.7}, "bm25": {"b": 12.0, "d": 4.0}},
                   {"dense": 0.6, "bm25": 0.4})
    # dense normalised: a 1, b 0, c 0.5; bm25 normalised: b 1, d 0; missing = 0
    assert fused == pytest.approx({"a": 0.6, "b": 0.4, "c": 0.3, "d": 0.0})
    assert ranked(fused)[0][0] == "a"
    # no weights: each list counts 1
    assert convex({"x": {"p": 1.0, "q": 0.0}}) == {"p": 1.0, "q": 0.0}
