"""arXiv source: Atom parsing on real recorded feeds, and the real client over real HTTP.

The replay server (tests/replay.py) serves the arXiv API responses recorded by arxiv.py's
test suite (tests/data/arxiv/PROVENANCE.md), routed by the query parameters they were
recorded with.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from replay import ReplayServer, Reply, replay_server  # noqa: F401, F811  (the fixture)

from zsearch.errors import RecordError, SourceError
from zsearch.papers.model import Paper
from zsearch.sources.arxiv import (
    ArxivSource,
    arxiv_client,
    check_arxiv_id,
    collapse_versions,
    parse_feed,
    parse_papers,
    pdf_file_name,
)
from zsearch.sources.http import RateLimiter, parse_retry_after

DATA = Path(__file__).parent / "data" / "arxiv"
API = DATA / "api_2026"
BODIES = API / "xml_bodies"
API_PATH = "/api/query"
# test spacing instead of arXiv's 3 s; the spacing, not the total time, is what is checked
INTERVAL = 0.2
# Gaps are measured at the server's arrival times, which carry its handler thread's
# scheduling delay on a loaded machine; a broken limiter gives gaps of a few ms, far below this.
ARRIVAL_JITTER = 0.05


def body(name: str) -> bytes:
    return next(BODIES.glob(name + "_*.xml")).read_bytes()


@pytest.fixture
def arxiv_server(replay_server: ReplayServer) -> ReplayServer:
    replay_server.add_arxiv_recordings(API)
    return replay_server


def source(srv: ReplayServer, *, page_size: int = 100, interval: float = INTERVAL, **kw) -> ArxivSource:
    client = arxiv_client(interval=interval, backoff=0.05, **kw)
    return ArxivSource(client, srv.url + API_PATH, page_size=page_size)


# --- parsing -------------------------------------------------------------------------------

def test_parse_2016_feed_fields():
    (p,) = parse_papers((DATA / "api_2016" / "id_list_1111.2011v2.xml").read_bytes())
    assert p.id == "arxiv:1111.2011"
    assert p.arxiv_id == "1111.2011"
    assert p.extra["arxiv_version"] == 2
    assert p.title == "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    assert p.authors == ["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"]
    assert p.doi == "10.1103/physrevb.85.115117"
    assert p.categories == ["cond-mat.str-el", "cond-mat.stat-mech"]  # primary category first
    assert (p.published, p.year) == ("2011-11-08", 2011)
    assert p.extra["journal_ref"] == "Phys. Rev. B 85, 115117 (2012)"
    assert p.extra["pdf_url"] == "http://arxiv.org/pdf/1111.2011v2"
    assert p.abstract.startswith("Theoretical description of anisotropic systems")
    assert "\n" not in p.abstract


def test_parse_2026_old_style_id():
    (p,) = parse_papers(body("id_astro-ph_0601001"))
    assert p.id == "arxiv:astro-ph/0601001"
    assert p.extra["arxiv_version"] == 1
    assert p.authors[:2] == ["Andrew Gould", "Susan Dorsher"]
    assert p.categories == ["astro-ph"]
    assert pdf_file_name(p) == "astro-ph_0601001v1.pdf"


def test_parse_page_of_100_and_error_feed():
    feed = parse_feed(body("q_testing_s0_m100"))
    assert feed.total == 214881 and len(feed.entries) == 100
    err = parse_feed(body("id_abc"))
    assert err.error == "incorrect id format for abc" and err.entries == []
    with pytest.raises(SourceError, match="incorrect id format for abc"):
        parse_papers(body("id_abc"))


def test_malformed_xml_is_a_source_error_naming_the_page():
    with pytest.raises(SourceError, match="page 7: malformed XML"):
        parse_feed(body("q_testing_s0_m10")[:5000], what="page 7")


def test_xxe_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    evil = (f'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY xxe SYSTEM "file://{secret}">]>'
            '<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2401.00001v1</id>'
            '<title>T &xxe;</title><summary>S &xxe;</summary><published>2024-01-01T00:00:00Z</published>'
            '</entry></feed>').encode()
    (p,) = parse_papers(evil)
    assert "TOP-SECRET" not in p.title + p.abstract
    assert p.id == "arxiv:2401.00001"


def test_check_arxiv_id():
    assert check_arxiv_id("2401.01234") and check_arxiv_id("2401.01234v3")
    assert check_arxiv_id("hep-th/9901001v2") and check_arxiv_id("math.AG/0601001")
    assert not check_arxiv_id("abc") and not check_arxiv_id("2401.1")


def test_collapse_versions_keeps_latest():
    (p1,) = parse_papers(body("id_2104.12255v1"))
    p3 = replace(p1, title="Third version", extra={**p1.extra, "arxiv_version": 3})
    p2 = replace(p1, title="Second version", extra={**p1.extra, "arxiv_version": 2})
    err = RecordError("x", record="abc")
    out = collapse_versions([p1, err, p3, p2])
    assert out == [p3, err]


def test_rate_limiter_spaces_calls_with_fake_clock():
    now = [100.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    lim = RateLimiter(3.0, clock=lambda: now[0], sleep=sleep)
    lim.wait()          # first call: no wait
    now[0] += 1.0
    lim.wait()          # 1 s later: waits 2 s
    now[0] += 5.0
    lim.wait()          # 5 s later: no wait
    assert slept == [2.0]


def test_parse_retry_after():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


# --- client over HTTP ----------------------------------------------------------------------------

def test_paging_and_spacing(arxiv_server):
    src = source(arxiv_server, page_size=10)
    papers = list(src.search("testing", max_results=60))
    assert len(papers) == 60 and all(isinstance(p, Paper) for p in papers)
    reqs = arxiv_server.requests_to(API_PATH)
    assert [r.params["start"] for r in reqs] == ["0", "10", "20", "30", "40", "50"]
    assert {r.params["max_results"] for r in reqs} == {"10"}
    # requests are spaced at least the interval apart, over one connection
    assert min(arxiv_server.gaps(API_PATH)) >= INTERVAL - ARRIVAL_JITTER
    assert len({r.client_port for r in reqs}) == 1
    first_page = parse_papers(body("q_testing_s0_m10"))
    assert [p.id for p in papers[:10]] == [p.id for p in first_page]


def test_max_100_is_one_request(arxiv_server):
    src = source(arxiv_server)
    papers = list(src.search("testing", max_results=100))
    assert len(papers) == 100 and len({p.id for p in papers}) == 100
    (req,) = arxiv_server.requests
    assert req.params["max_results"] == "100" and req.params["search_query"] == "testing"


def test_max_smaller_than_page(arxiv_server):
    papers = list(source(arxiv_server, page_size=100).search("testing", max_results=15))
    assert len(papers) == 15
    assert arxiv_server.requests[0].params["max_results"] == "15"


def test_empty_feed_for_unknown_id(arxiv_server):
    out = list(source(arxiv_server).lookup(["0000.0000"]))
    assert len(out) == 1 and isinstance(out[0], RecordError)
    assert out[0].record == "0000.0000" and "0000.0000" in str(out[0])


def test_error_feed_names_the_id_and_other_ids_still_load(arxiv_server):
    # arXiv answers a list holding a malformed id with the same HTTP 400 error feed
    arxiv_server.add(API_PATH, {"id_list": "abc,1707.08567"}, Reply(400, body("id_abc")))
    out = list(source(arxiv_server).lookup(["abc", "1707.08567"]))
    errors = [x for x in out if isinstance(x, RecordError)]
    papers = [x for x in out if isinstance(x, Paper)]
    assert [e.record for e in errors] == ["abc"]
    assert "incorrect id format for abc" in str(errors[0])
    assert [p.id for p in papers] == ["arxiv:1707.08567"]
    assert [r.params["id_list"] for r in arxiv_server.requests] == ["abc,1707.08567", "1707.08567"]


def test_lookup_versioned_and_old_style(arxiv_server):
    one = list(source(arxiv_server).lookup(["quant-ph/0201082v1"]))
    assert [p.id for p in one] == ["arxiv:quant-ph/0201082"] and one[0].extra["arxiv_version"] == 1


def test_missing_id_in_a_pair_is_reported(arxiv_server):
    out = list(source(arxiv_server).lookup(["0808.05394", "1707.08567"]))
    assert [x.id for x in out if isinstance(x, Paper)] == ["arxiv:1707.08567"]
    assert [x.record for x in out if isinstance(x, RecordError)] == ["0808.05394"]


def test_429_and_503_then_success_honours_retry_after(replay_server):
    replay_server.add(API_PATH, {"search_query": "testing", "start": "0"}, [
        Reply(429, b"slow down", headers={"Retry-After": "1"}, content_type="text/plain"),
        Reply(503, b"busy", content_type="text/plain"),
        Reply(200, body("q_testing_s0_m10")),
    ])
    src = source(replay_server, page_size=10)
    papers = list(src.search("testing", max_results=10))
    assert len(papers) == 10
    gaps = replay_server.gaps()
    assert len(gaps) == 2
    assert gaps[0] >= 1.0 - 0.01          # Retry-After: 1 honoured
    assert gaps[1] >= INTERVAL - ARRIVAL_JITTER     # backoff never beats the rate limit


def test_retries_exhausted_is_source_error_naming_the_page(replay_server):
    replay_server.add_arxiv_recordings(API)
    replay_server.add(API_PATH, {"search_query": "testing", "id_list": "", "start": "10", "max_results": "10"},
                      Reply(503, b"busy", content_type="text/plain"))
    src = source(replay_server, page_size=10, retries=2)
    got = []
    with pytest.raises(SourceError, match=r"page start=10 .* HTTP 503 after 3 attempts"):
        for p in src.search("testing", max_results=30):
            got.append(p)
    assert len(got) == 10  # the first page was yielded before the failure


def test_spuriously_empty_page_is_retried(replay_server):
    replay_server.add_arxiv_recordings(API)
    # the real empty feed (totalResults 0) served once for page 2, then the real page
    replay_server.add(API_PATH, {"search_query": "testing", "id_list": "", "start": "10", "max_results": "10"},
                      [Reply(200, body("id_0000.0000")), Reply(200, body("q_testing_s10_m10"))])
    papers = list(source(replay_server, page_size=10).search("testing", max_results=20))
    assert len(papers) == 20
    assert [r.params["start"] for r in replay_server.requests] == ["0", "10", "10"]


def test_timeout_is_source_error_naming_the_page(replay_server):
    replay_server.add(API_PATH, {}, Reply(200, body("q_testing_s0_m10"), delay=1.0))
    src = source(replay_server, page_size=10, timeout=0.2, retries=1)
    with pytest.raises(SourceError, match=r"page start=0 of query 'testing' failed: timed out after 2 attempts"):
        list(src.search("testing", max_results=10))


def test_since_sorts_by_submission_and_stops(arxiv_server):
    src = source(arxiv_server, page_size=10)
    since = date(2020, 1, 1)
    papers = list(src.search("testing", max_results=60, since=since))
    first = arxiv_server.requests[0].params
    assert (first["sortBy"], first["sortOrder"]) == ("submittedDate", "descending")
    assert all(p.published >= "2020-01-01" for p in papers)
    # the recorded page is in relevance order: the run stops at its first older paper
    page = parse_papers(body("q_testing_s0_m10"))
    stop = next(i for i, p in enumerate(page) if p.published < "2020-01-01")
    assert [p.id for p in papers] == [p.id for p in page[:stop]]
    assert len(arxiv_server.requests) == 1
