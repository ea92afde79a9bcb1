"""PubMed: the record parser on real efetch/baseline XML, and the E-utilities client over real HTTP.

Recorded responses (tests/data/pubmed/PROVENANCE.md) are served by the replay server.
"""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pytest
from replay import ReplayServer, Reply, replay_server  # noqa: F401, F811  (the fixture)

from zsearch.errors import RecordError, SourceError
from zsearch.papers.model import Paper
from zsearch.sources.pubmed import (
    NCBI_INTERVAL,
    NCBI_INTERVAL_WITH_KEY,
    PubmedSource,
    parse_efetch,
    plan_date_ranges,
    pubmed_client,
)

DATA = Path(__file__).parent / "data" / "pubmed"
EU = DATA / "eutils"
BASE = "/entrez/eutils/"
INTERVAL = 0.1  # test spacing; NCBI's 1/3 s and 1/10 s are checked as constants below
# Gaps are measured at the server's arrival times, which carry its handler thread's
# scheduling delay on a loaded machine; a broken limiter gives gaps of a few ms, far below this.
ARRIVAL_JITTER = 0.03


def efetch(name: str) -> list[Paper | RecordError]:
    return parse_efetch((EU / name).read_bytes())


def by_pmid(items, pmid):
    return next(p for p in items if isinstance(p, Paper) and p.pmid == pmid)


# --- parser ---------------------------------------------------------------------------------

def test_structured_abstract_labels_kept_and_fields():
    p = by_pmid(efetch("double.xml"), "22454523")
    assert p.id == "pmid:22454523"
    assert p.title.startswith("Botulinum neurotoxin D-C uses synaptotagmin I and II")
    assert p.authors[:2] == ["Lisheng Peng", "Ronnie P-A Berntsson"]
    assert p.doi == "10.1242/jcs.103564"
    assert p.extra["pmcid"] == "PMC4067266"
    assert p.extra["journal"] == "Journal of cell science"
    assert (p.year, p.published) == (2012, "2012-07-01")
    assert "Journal Article" in p.extra["publication_types"]
    assert "Amino Acid Sequence" in p.categories  # MeSH descriptors
    assert p.url == "https://pubmed.ncbi.nlm.nih.gov/22454523/"


def test_labelled_sections_in_markup_file():
    p = efetch("markup.xml")[0]
    labels = [s["label"] for s in p.extra["abstract_sections"]]
    assert labels[:4] == ["OBJECTIVES", "DESIGN", "SETTING", "PARTICIPANTS"]
    assert p.abstract.startswith("OBJECTIVES: To identify the genetic determinants of fracture risk")
    assert "\nDESIGN: Meta-analysis" in p.abstract
    # inline <i> markup is flattened into the text
    assert "SOST, WNT16, and ESR1" in p.abstract


def test_month_names_and_partial_dates():
    items = efetch("pubmed2.xml")
    p = by_pmid(items, "11748933")  # PubDate 2001 Jun, no day
    assert (p.year, p.published) == (2001, "2001-06")
    assert p.extra["journal"] == "Cryobiology"


def test_record_without_title_uses_vernacular_title_and_without_abstract_is_kept():
    (p,) = efetch("no_title_abstract.xml")
    assert p.id == "pmid:33279447"
    assert p.title == "Pere Barceló."
    assert p.abstract == "" and p.extra["no_abstract"] is True
    assert p.doi == "10.1016/j.reuma.2020.11.001"  # from ELocationID


def test_record_with_neither_title_nor_abstract_is_a_record_error():
    data = (EU / "no_title_abstract.xml").read_bytes().replace(b"<VernacularTitle>Pere Barcel\xc3\xb3.</VernacularTitle>", b"")
    (err,) = parse_efetch(data)
    assert isinstance(err, RecordError) and err.record == "pmid:33279447"
    assert "neither a title nor an abstract" in str(err)


def test_2016_medline_baseline_record():
    from lxml import etree

    root = etree.fromstring(gzip.decompress((DATA / "baseline" / "medline16n0902_slice604.xml.gz").read_bytes()),
                            parser=etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    items = parse_efetch(etree.tostring(root))
    assert len(items) == 604
    p = items[0]
    assert p.id == "pmid:17942999"
    assert [s["label"] for s in p.extra["abstract_sections"]] == ["PURPOSE", "METHODS", "RESULTS", "CONCLUSIONS"]
    assert p.authors == ["Bharath Chandrasekaran", "Jackson T Gandour", "Ananthanarayan Krishnan"]
    assert p.extra["journal"] == "Restorative neurology and neuroscience"
    assert (p.year, p.published) == (2007, "2007")
    assert p.categories[:2] == ["Acoustic Stimulation", "Adult"]
    last = items[-1]
    assert last.extra["pmcid"] == "PMC4688250"  # from <OtherID Source="NLM">


def test_xxe_payload_is_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    evil = (f'<?xml version="1.0"?><!DOCTYPE PubmedArticleSet [<!ENTITY xxe SYSTEM "file://{secret}">'
            '<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            '<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID Version="1">123</PMID><Article>'
            '<ArticleTitle>Title &xxe; &lol2;</ArticleTitle><Abstract><AbstractText>Body &xxe;</AbstractText>'
            '</Abstract></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>').encode()
    (p,) = parse_efetch(evil)
    assert "TOP-SECRET" not in p.title + p.abstract
    assert "lollol" not in p.title
    assert p.id == "pmid:123"


def test_malformed_efetch_is_source_error():
    with pytest.raises(SourceError, match="malformed XML"):
        parse_efetch((EU / "pubmed.xml").read_bytes()[:3000], what="efetch records 1-5")


def test_plan_date_ranges_halves_until_each_fits():
    # 100 records a day over 30 days, cap 1,000: 30 days -> 15 + 15 -> 8 + 7 + 8 + 7 days
    def count(a, b):
        return 100 * ((b - a).days + 1)

    plan = plan_date_ranges(count, date(2024, 1, 1), date(2024, 1, 30), cap=1000)
    assert [(a.day, b.day, n) for a, b, n in plan] == [(1, 8, 800), (9, 15, 700), (16, 23, 800), (24, 30, 700)]


def test_plan_date_ranges_drops_empty_and_keeps_oversized_days():
    def count(a, b):
        return 5000 if a <= date(2024, 1, 2) <= b else 0

    plan = plan_date_ranges(count, date(2024, 1, 1), date(2024, 1, 4), cap=1000)
    assert plan == [(date(2024, 1, 2), date(2024, 1, 2), 5000)]


def test_rate_constants():
    assert NCBI_INTERVAL == 1 / 3 and NCBI_INTERVAL_WITH_KEY == 1 / 10
    assert pubmed_client().limiter.interval == 1 / 3
    assert pubmed_client(api_key="k").limiter.interval == 1 / 10


# --- client over HTTP ---------------------------------------------------------------------------

@pytest.fixture
def eutils(replay_server: ReplayServer) -> ReplayServer:
    replay_server.add(BASE + "esearch.fcgi", {"term": "cancer"}, (EU / "esearch.pubmed.xml").read_bytes())
    replay_server.add(BASE + "esearch.fcgi", {"term": "abcXYZ"}, (EU / "esearch8.xml").read_bytes())
    replay_server.add(BASE + "efetch.fcgi", {"retstart": "0"}, (EU / "pubmed.xml").read_bytes())
    replay_server.add(BASE + "efetch.fcgi", {"retstart": "5"}, (EU / "double.xml").read_bytes())
    return replay_server


def pubmed(srv: ReplayServer, *, api_key=None, batch=5, **kw) -> PubmedSource:
    client = pubmed_client(api_key=api_key, interval=INTERVAL, backoff=0.05, **kw)
    return PubmedSource(client, srv.url + BASE, api_key=api_key, email="me@example.org", batch=batch,
                        today=date(2026, 11, 25))


def test_esearch_history_then_efetch_batches(eutils):
    items = list(pubmed(eutils, api_key="KEY123").search("cancer", max_results=7))
    assert [p.pmid for p in items] == ["35196497", "33278872", "24792780", "30158200", "151222",
                                       "31302001", "22454523"]
    es, f1, f2 = eutils.requests
    assert es.path.endswith("esearch.fcgi") and es.params["usehistory"] == "y"
    assert (f1.params["retstart"], f1.params["retmax"]) == ("0", "5")
    assert (f2.params["retstart"], f2.params["retmax"]) == ("5", "2")
    for f in (f1, f2):
        assert f.params["WebEnv"] == "NCID_1_18991374_130.14.18.48_5555_1353814292_87026138"
        assert f.params["query_key"] == "1"
    for r in eutils.requests:  # tool, email and the API key on every call
        assert (r.params["tool"], r.params["email"], r.params["api_key"]) == ("zsearch", "me@example.org", "KEY123")
        assert r.params["db"] == "pubmed"
    assert min(eutils.gaps()) >= INTERVAL - ARRIVAL_JITTER
    assert len({r.client_port for r in eutils.requests}) == 1


def test_no_api_key_is_not_sent(eutils):
    list(pubmed(eutils).search("cancer", max_results=3))
    assert all("api_key" not in r.params for r in eutils.requests)


def test_no_hits_gives_nothing(eutils):
    assert list(pubmed(eutils).search("abcXYZ")) == []
    assert len(eutils.requests) == 1


def test_since_sends_entrez_date_range(eutils):
    list(pubmed(eutils).search("cancer", max_results=2, since=date(2026, 11, 1)))
    es = eutils.requests[0].params
    assert (es["datetype"], es["mindate"], es["maxdate"]) == ("edat", "2026/11/01", "2026/11/25")


def test_efetch_429_then_5xx_then_success(eutils):
    eutils.add(BASE + "efetch.fcgi", {"retstart": "0"}, [
        Reply(429, b"", headers={"Retry-After": "0.5"}, content_type="text/plain"),
        Reply(502, b"bad gateway", content_type="text/plain"),
        Reply(200, (EU / "pubmed.xml").read_bytes()),
    ])
    items = list(pubmed(eutils).search("cancer", max_results=5))
    assert len(items) == 5
    fetches = eutils.requests_to(BASE + "efetch.fcgi")
    assert len(fetches) == 3
    assert fetches[1].time - fetches[0].time >= 0.5 - 0.01


def test_efetch_failure_names_the_batch_and_keeps_earlier_records(eutils):
    eutils.add(BASE + "efetch.fcgi", {"retstart": "5"}, Reply(500, b"oops", content_type="text/plain"))
    got = []
    with pytest.raises(SourceError, match=r"efetch records 6-7 failed: HTTP 500 after 2 attempts"):
        for p in pubmed(eutils, retries=1).search("cancer", max_results=7):
            got.append(p)
    assert len(got) == 5


def test_large_search_is_split_by_date(replay_server):
    """15,169 hits (recorded) with a cap of 10,000: the client asks for date ranges."""
    replay_server.add(BASE + "esearch.fcgi", {"term": "cancer"}, (EU / "esearch.pubmed.xml").read_bytes())
    # every narrower range answers "no hits" (the recorded empty search): nothing is fetched
    replay_server.add(BASE + "esearch.fcgi", {"term": "cancer", "datetype": "edat"}, (EU / "esearch8.xml").read_bytes())
    src = pubmed(replay_server)
    assert list(src.search("cancer")) == []
    ranges = [(r.params["mindate"], r.params["maxdate"]) for r in replay_server.requests[1:]]
    assert ranges[0] == ("1780/01/01", "2026/11/25")
    assert all(r.path.endswith("esearch.fcgi") for r in replay_server.requests)
