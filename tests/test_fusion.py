"""RRF checked against values computed by hand (Cormack et al. 2009: 1/(k + rank))."""

from zsearch.fusion import RRF_K, ranked, rrf


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
