import pytest

from zsearch.papers.identity import canonical_id, normalize_arxiv_id, normalize_doi
from zsearch.papers.model import Paper, display_title


def test_canonical_id_prefers_arxiv_then_pmid_then_doi_then_hash():
    assert canonical_id(arxiv_id="2401.01234v3", pmid="1", doi="10.1/x") == "arxiv:2401.01234"
    assert canonical_id(pmid="123", doi="10.1/X") == "pmid:123"
    assert canonical_id(doi="https://doi.org/10.1000/ABC.") == "doi:10.1000/abc"
    assert canonical_id(sha256="ab" * 32) == "sha256:" + "ab" * 32
    with pytest.raises(ValueError):
        canonical_id()


def test_identifier_normalisation():
    assert normalize_arxiv_id("arXiv:hep-th/9901001v2") == "hep-th/9901001"
    assert normalize_arxiv_id("https://arxiv.org/abs/2104.12255v1") == "2104.12255"
    assert normalize_doi("doi: 10.18653/V1/2020.ACL-MAIN.207") == "10.18653/v1/2020.acl-main.207"
    assert display_title("Deep  learn-\n ing for\nsearch") == "Deep learning for search"


def test_content_hash_tracks_embedded_text_only():
    a = Paper(id="doi:10.1/a", source="pdf", title="T", abstract="A", full_text="B")
    b = Paper(id="doi:10.1/a", source="arxiv", title="T", abstract="A", full_text="B", year=2020)
    c = Paper(id="doi:10.1/a", source="pdf", title="T", abstract="A", full_text="B2")
    assert a.content_hash() == b.content_hash() != c.content_hash()
    assert a.sources == ["pdf"]
