"""Zotero source: a real zotero.sqlite built from Zotero's own schema files (tests/data/zotero).

The builder below runs Zotero's system.sql, userdata.sql and triggers.sql, fills the tables
Zotero fills at start-up, and adds a realistic library through plain INSERTs: items with
creators, tags and nested collections, imported, linked and base-relative PDF attachments
(copies of tests/data/pdfs), a missing attachment, an HTML snapshot, notes, a trashed item, a
group library and a feed. See tests/data/zotero/README.md for the schema files' provenance.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from tinymodels import tiny_bert_dir  # noqa: F401 - fixture

from zsearch.errors import LockBusy, NotFound, RecordError, SourceError, UsageError
from zsearch.papers.model import Deletion, Paper
from zsearch.sources.records import parse_extra, zotero_date
from zsearch.sources.zotero import ZoteroLibrary, read_zotero, stored_zotero_items

DATA = Path(__file__).resolve().parent / "data"
SCHEMA = DATA / "zotero" / "schema"
PDFS = DATA / "pdfs"
SPECTER_PDF = PDFS / "acl_anthology" / "2020.acl-main.207.pdf"
N18_PDF = PDFS / "acl_anthology" / "N18-3011.pdf"
P14_PDF = PDFS / "acl_anthology" / "P14-1059.pdf"
BMC_PDF = PDFS / "open_access_biomed" / "cermine_test1.pdf"

SPECTER_ABSTRACT = (
    "Representation learning is a critical ingredient for natural language processing systems. Recent "
    "Transformer language models like BERT learn powerful textual representations, but these models are "
    "targeted towards token- and sentence-level training objectives and do not leverage information on "
    "inter-document relatedness, which limits their document-level representation power. For applications "
    "on scientific documents, such as classification and recommendation, the embeddings power strong "
    "performance on end tasks. We propose SPECTER, a new method to generate document-level embedding of "
    "scientific documents based on pretraining a Transformer language model on a powerful signal of "
    "document-level relatedness: the citation graph. Unlike existing pretrained language models, SPECTER "
    "can be easily applied to downstream applications without task-specific fine-tuning. Additionally, to "
    "encourage further research on document-level models, we introduce SCIDOCS, a new evaluation benchmark "
    "consisting of seven document-level tasks ranging from citation prediction, to document classification "
    "and recommendation. We show that SPECTER outperforms a variety of competitive baselines on the benchmark."
)
N18_AUTHORS = [
    "Waleed Ammar", "Dirk Groeneveld", "Chandra Bhagavatula", "Iz Beltagy", "Miles Crawford", "Doug Downey",
    "Jason Dunkelberger", "Ahmed Elgohary", "Sergey Feldman", "Vu Ha", "Rodney Kinney", "Sebastian Kohlmeier",
    "Kyle Lo", "Tyler Murray", "Hsu-Han Ooi", "Matthew Peters", "Joanna Power", "Sam Skjonsberg",
    "Lucy Lu Wang", "Chris Wilhelm", "Zheng Yuan", "Madeleine van Zuylen", "Oren Etzioni",
]
T0 = "2024-01-10 10:00:00"  # when the test library's items were last modified


class ZoteroBuilder:
    """Creates zotero.sqlite the way Zotero does, then adds rows to Zotero's own tables."""

    def __init__(self, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        self.dir = data_dir
        self.con = sqlite3.connect(data_dir / "zotero.sqlite", isolation_level=None)
        self.con.execute("PRAGMA foreign_keys = ON")
        versions = {}
        for name in ("system", "userdata", "triggers"):
            sql = (SCHEMA / f"{name}.sql").read_text(encoding="utf-8")
            self.con.executescript(f"BEGIN;\n{sql}\n;COMMIT;")  # Zotero runs each file in one transaction
            versions[name] = int(sql.split("\n", 1)[0].lstrip("- "))
        self.con.executemany("INSERT INTO version VALUES (?, ?)", versions.items())
        # Zotero fills the …Combined tables from the base tables (plus custom types/fields) at start-up
        self.con.executescript("""
            INSERT INTO itemTypesCombined SELECT itemTypeID, typeName, display, 0 FROM itemTypes;
            INSERT INTO fieldsCombined SELECT fieldID, fieldName, NULL, fieldFormatID, 0 FROM fields;
            INSERT INTO itemTypeFieldsCombined SELECT itemTypeID, fieldID, hide, orderIndex FROM itemTypeFields;
            INSERT INTO baseFieldMappingsCombined SELECT itemTypeID, baseFieldID, fieldID FROM baseFieldMappings;
        """)
        self.con.execute("BEGIN")  # executescript committed; the rest is one transaction until close()
        self.con.execute("INSERT INTO libraries (libraryID, type, editable, filesEditable) VALUES (1, 'user', 1, 1)")

    def close(self) -> None:
        self.con.execute("COMMIT")
        self.con.close()

    def _one(self, sql: str, *args: object) -> int:
        row = self.con.execute(sql, args).fetchone()
        assert row is not None, (sql, args)
        return int(row[0])

    def _value_id(self, value: str) -> int:
        self.con.execute("INSERT OR IGNORE INTO itemDataValues (value) VALUES (?)", (value,))
        return self._one("SELECT valueID FROM itemDataValues WHERE value = ?", value)

    def add_item(self, key: str, item_type: str, fields: dict[str, str], *, creators=(), tags=(), collections=(),
                 library: int = 1, modified: str = T0) -> int:
        """``creators``: ``(first, last, type)``; ``first=None`` is a one-field name (fieldMode 1)."""
        type_id = self._one("SELECT itemTypeID FROM itemTypes WHERE typeName = ?", item_type)
        item_id = self.con.execute(
            "INSERT INTO items (itemTypeID, dateAdded, dateModified, clientDateModified, libraryID, key) "
            "VALUES (?, ?, ?, ?, ?, ?)", (type_id, "2023-12-01 08:00:00", modified, modified, library, key)).lastrowid
        for name, value in fields.items():
            field_id = self._one("SELECT fieldID FROM fieldsCombined WHERE fieldName = ?", name)
            self.con.execute("INSERT INTO itemData VALUES (?, ?, ?)", (item_id, field_id, self._value_id(value)))
        for order, (first, last, kind) in enumerate(creators):
            mode = 1 if first is None else 0
            self.con.execute("INSERT OR IGNORE INTO creators (firstName, lastName, fieldMode) VALUES (?, ?, ?)",
                             (first or "", last, mode))
            creator_id = self._one("SELECT creatorID FROM creators WHERE firstName = ? AND lastName = ? AND "
                                   "fieldMode = ?", first or "", last, mode)
            type_id = self._one("SELECT creatorTypeID FROM creatorTypes WHERE creatorType = ?", kind)
            self.con.execute("INSERT INTO itemCreators VALUES (?, ?, ?, ?)", (item_id, creator_id, type_id, order))
        for tag in tags:
            self.con.execute("INSERT OR IGNORE INTO tags (name) VALUES (?)", (tag,))
            tag_id = self._one("SELECT tagID FROM tags WHERE name = ?", tag)
            self.con.execute("INSERT INTO itemTags VALUES (?, ?, 0)", (item_id, tag_id))
        for coll in collections:
            self.con.execute("INSERT INTO collectionItems (collectionID, itemID) VALUES (?, ?)", (coll, item_id))
        return item_id

    def add_collection(self, key: str, name: str, parent: int | None = None, library: int = 1) -> int:
        return self.con.execute("INSERT INTO collections (collectionName, parentCollectionID, libraryID, key) "
                                "VALUES (?, ?, ?, ?)", (name, parent, library, key)).lastrowid

    def add_attachment(self, parent: int, key: str, path: str, *, link_mode: int, title: str,
                       content_type: str = "application/pdf", library: int = 1, modified: str = T0) -> int:
        item_id = self.add_item(key, "attachment", {"title": title}, library=library, modified=modified)
        self.con.execute("INSERT INTO itemAttachments (itemID, parentItemID, linkMode, contentType, path) "
                         "VALUES (?, ?, ?, ?, ?)", (item_id, parent, link_mode, content_type, path))
        return item_id

    def store_file(self, attachment_key: str, name: str, source: Path) -> None:
        folder = self.dir / "storage" / attachment_key
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, folder / name)

    def add_note(self, key: str, html: str, parent: int | None = None) -> int:
        item_id = self.add_item(key, "note", {})
        self.con.execute("INSERT INTO itemNotes (itemID, parentItemID, note, title) VALUES (?, ?, ?, ?)",
                         (item_id, parent, html, html[:40]))
        return item_id

    def add_group(self, group_id: int, library_id: int, name: str) -> None:
        self.con.execute("INSERT INTO libraries (libraryID, type, editable, filesEditable) VALUES (?, 'group', 1, 1)",
                         (library_id,))
        self.con.execute("INSERT INTO groups (groupID, libraryID, name, description, version) VALUES (?, ?, ?, '', 0)",
                         (group_id, library_id, name))

    def add_feed(self, library_id: int, name: str, url: str) -> None:
        self.con.execute("INSERT INTO libraries (libraryID, type, editable, filesEditable) VALUES (?, 'feed', 0, 0)",
                         (library_id,))
        self.con.execute("INSERT INTO feeds (libraryID, name, url) VALUES (?, ?, ?)", (library_id, name, url))

    def trash(self, item_id: int) -> None:
        self.con.execute("INSERT INTO deletedItems (itemID) VALUES (?)", (item_id,))


def build_library(root: Path) -> dict[str, object]:
    """The test library: 8 regular items (7 in My Library, 1 in a group) and everything Zotero
    keeps beside them. Returns the paths and item ids the tests need."""
    z = ZoteroBuilder(root / "Zotero")
    linked_dir = root / "elsewhere"
    base_dir = root / "Dropbox" / "papers"
    thesis = z.add_collection("AB2C3D4E", "Thesis")
    related = z.add_collection("FG5H6J7K", "Related work", parent=thesis)
    clinical = z.add_collection("LM8N9P2Q", "Clinical")

    specter = z.add_item("Q7CZ4MRE", "conferencePaper", {
        "title": "SPECTER: Document-level Representation Learning using Citation-informed Transformers",
        "abstractNote": SPECTER_ABSTRACT,
        "date": "2020-07-00 July 2020",
        "proceedingsTitle": "Proceedings of the 58th Annual Meeting of the Association for Computational Linguistics",
        "place": "Online", "publisher": "Association for Computational Linguistics", "pages": "2270–2282",
        "DOI": "10.18653/v1/2020.acl-main.207", "url": "https://aclanthology.org/2020.acl-main.207",
        "accessDate": "2024-01-10 09:58:12", "libraryCatalog": "ACLWeb", "extra": "arXiv: 2004.07180",
    }, creators=[("Arman", "Cohan", "author"), ("Sergey", "Feldman", "author"), ("Iz", "Beltagy", "author"),
                 ("Doug", "Downey", "author"), ("Daniel", "Weld", "author")],
        tags=["representation learning", "citation graph"], collections=[related])
    spdf = "Cohan et al. - 2020 - SPECTER Document-level Representation Learning using Citation-informed Transformers.pdf"
    z.add_attachment(specter, "X7K2M9QP", f"storage:{spdf}", link_mode=1, title="Full Text PDF")
    z.store_file("X7K2M9QP", spdf, SPECTER_PDF)
    z.add_attachment(specter, "S5P2L8VD", "storage:2020.acl-main.207.html", link_mode=1, title="Snapshot",
                     content_type="text/html")
    z.add_note("N2C7Q3XV", "<p>Compare with SciNCL for the thesis chapter 2.</p>", parent=specter)

    n18 = z.add_item("8NWX3JTB", "conferencePaper", {
        "title": "Construction of the Literature Graph in Semantic Scholar",
        "abstractNote": "We describe a deployed scalable system for organizing published scientific literature "
                        "into a heterogeneous graph to facilitate algorithmic manipulation and discovery.",
        "date": "2018-06-00 June 2018",
        "proceedingsTitle": "Proceedings of the 2018 Conference of the North American Chapter of the Association "
                            "for Computational Linguistics: Human Language Technologies, Volume 3 (Industry Papers)",
        "place": "New Orleans - Louisiana", "pages": "84–91", "DOI": "10.18653/v1/N18-3011",
        "url": "https://aclanthology.org/N18-3011",
    }, creators=[(*a.rsplit(" ", 1), "author") if a != "Madeleine van Zuylen" else ("Madeleine", "van Zuylen",
                                                                                   "author") for a in N18_AUTHORS],
        tags=["semantic scholar", "knowledge graphs"], collections=[thesis])
    npdf = "Ammar et al. - 2018 - Construction of the Literature Graph in Semantic Scholar.pdf"
    z.add_attachment(n18, "D4H6TR2Z", f"storage:{npdf}", link_mode=0, title="Ammar et al. - 2018.pdf")
    z.store_file("D4H6TR2Z", npdf, N18_PDF)

    p14 = z.add_item("5FBJ8QKA", "conferencePaper", {
        "title": "How to make words with vectors: Phrase generation in distributional semantics",
        "date": "2014-06-00 June 2014",
        "proceedingsTitle": "Proceedings of the 52nd Annual Meeting of the Association for Computational "
                            "Linguistics (Volume 1: Long Papers)",
        "place": "Baltimore, Maryland", "pages": "624–633", "url": "https://aclanthology.org/P14-1059",
    }, creators=[("Georgiana", "Dinu", "author"), ("Marco", "Baroni", "author")], tags=["Distributional Semantics"])
    linked_dir.mkdir(parents=True)
    shutil.copyfile(P14_PDF, linked_dir / "Dinu_Baroni_2014.pdf")
    z.add_attachment(p14, "M3RW9C2N", str(linked_dir / "Dinu_Baroni_2014.pdf"), link_mode=2, title="Dinu_Baroni_2014.pdf")

    bmc = z.add_item("ZK4P7V2S", "journalArticle", {
        "title": "Complications related to deep venous thrombosis prophylaxis in trauma: "
                 "a systematic review of the literature",
        "publicationTitle": "Journal of Trauma Management & Outcomes", "volume": "4", "issue": "1", "pages": "1",
        "date": "2010-01-06 2010-01-06", "DOI": "10.1186/1752-2897-4-1", "ISSN": "1752-2897",
    }, creators=[("Indraneel", "Datta", "author"), ("Chad G.", "Ball", "author"), ("Lucas", "Rudmik", "author"),
                 ("S. Morad", "Hameed", "author"), ("John B.", "Kortbeek", "author")], collections=[clinical])
    (base_dir / "biomed").mkdir(parents=True)
    shutil.copyfile(BMC_PDF, base_dir / "biomed" / "Datta et al. 2010.pdf")
    z.add_attachment(bmc, "H8L2QX5T", "attachments:biomed/Datta et al. 2010.pdf", link_mode=2,
                     title="Datta et al. 2010.pdf")

    z.add_item("3VTQ9RMD", "book", {
        "title": "Introduction to Information Retrieval", "date": "2008-00-00 2008",
        "publisher": "Cambridge University Press", "place": "Cambridge", "ISBN": "978-0-521-86571-5",
        "url": "https://nlp.stanford.edu/IR-book/",
    }, creators=[("Christopher D.", "Manning", "author"), ("Prabhakar", "Raghavan", "author"),
                 ("Hinrich", "Schütze", "author")], tags=["textbook"], collections=[thesis])

    vaswani = z.add_item("W2XE6KHP", "conferencePaper", {
        "title": "Attention Is All You Need", "date": "2017-00-00 2017",
        "proceedingsTitle": "Advances in Neural Information Processing Systems 30", "pages": "5998–6008",
        "url": "https://arxiv.org/abs/1706.03762", "extra": "arXiv: 1706.03762",
    }, creators=[("Ashish", "Vaswani", "author"), ("Noam", "Shazeer", "author"), ("Niki", "Parmar", "author"),
                 ("Jakob", "Uszkoreit", "author"), ("Llion", "Jones", "author"), ("Aidan N.", "Gomez", "author"),
                 ("Łukasz", "Kaiser", "author"), ("Illia", "Polosukhin", "author")], tags=["transformers"])
    z.add_attachment(vaswani, "R9CJ4TBN", "storage:Vaswani et al. - 2017 - Attention Is All You Need.pdf",
                     link_mode=1, title="Full Text PDF")  # the file was never downloaded

    z.add_item("K5D3SE8G", "report", {
        "title": "Global tuberculosis report 2023", "date": "2023-11-07 7 November 2023", "place": "Geneva",
        "institution": "World Health Organization", "ISBN": "978-92-4-008385-1",
        "url": "https://www.who.int/publications/i/item/9789240083851",
    }, creators=[(None, "World Health Organization", "author")], collections=[clinical])

    trashed = z.add_item("T6Y8NB4W", "journalArticle", {
        "title": "Deep learning", "publicationTitle": "Nature", "volume": "521", "pages": "436–444",
        "date": "2015-05-28 2015-05-28", "DOI": "10.1038/nature14539",
    }, creators=[("Yann", "LeCun", "author"), ("Yoshua", "Bengio", "author"), ("Geoffrey", "Hinton", "author")])
    z.trash(trashed)
    z.add_note("J4G9W6RZ", "<p>Standalone note: reading list for March.</p>")

    z.add_group(4711, 2, "Reading group")
    retrieval = z.add_collection("RT3V5W7X", "Retrieval", library=2)
    z.add_item("9PLM3ZQY", "conferencePaper", {
        "title": "Dense Passage Retrieval for Open-Domain Question Answering", "date": "2020-11-00 November 2020",
        "proceedingsTitle": "Proceedings of the 2020 Conference on Empirical Methods in Natural Language "
                            "Processing (EMNLP)", "pages": "6769–6781", "DOI": "10.18653/v1/2020.emnlp-main.550",
    }, creators=[("Vladimir", "Karpukhin", "author"), ("Barlas", "Oguz", "author"), ("Sewon", "Min", "author"),
                 ("Patrick", "Lewis", "author"), ("Ledell", "Wu", "author"), ("Sergey", "Edunov", "author"),
                 ("Danqi", "Chen", "author"), ("Wen-tau", "Yih", "author")], collections=[retrieval], library=2)

    z.add_feed(3, "arXiv cs.IR", "https://rss.arxiv.org/rss/cs.IR")
    z.add_item("F3QH7L2K", "journalArticle", {"title": "A feed entry that is not in the library"}, library=3)
    z.close()
    return {"dir": z.dir, "base": base_dir, "ids": {"specter": specter, "n18": n18, "p14": p14, "bmc": bmc,
                                                    "vaswani": vaswani, "trashed": trashed}}


EXPECTED_IDS = {
    "arxiv:2004.07180", "doi:10.18653/v1/n18-3011", "zotero:5FBJ8QKA", "doi:10.1186/1752-2897-4-1",
    "zotero:3VTQ9RMD", "arxiv:1706.03762", "zotero:K5D3SE8G", "doi:10.18653/v1/2020.emnlp-main.550",
}


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return build_library(tmp_path_factory.mktemp("zotero"))


@pytest.fixture(scope="module")
def items(library):
    """Everything read_zotero yields for the test library, PDFs included (read once)."""
    return list(read_zotero(library["dir"], attachments_base=library["base"]))


def _papers(items) -> dict[str, Paper]:
    return {p.id: p for p in items if isinstance(p, Paper)}


def test_every_regular_item_becomes_one_paper(items):
    papers = _papers(items)
    assert set(papers) == EXPECTED_IDS
    assert len([p for p in items if isinstance(p, Paper)]) == 8
    titles = {p.title for p in papers.values()}
    assert "Deep learning" not in titles  # in the trash
    assert "A feed entry that is not in the library" not in titles
    assert all(p.source == "zotero" and p.sources == ["zotero"] for p in papers.values())


def test_metadata_of_an_item_with_an_imported_pdf(items):
    p = _papers(items)["arxiv:2004.07180"]
    assert p.title == "SPECTER: Document-level Representation Learning using Citation-informed Transformers"
    assert p.authors == ["Arman Cohan", "Sergey Feldman", "Iz Beltagy", "Doug Downey", "Daniel Weld"]
    assert (p.year, p.published) == (2020, "2020-07")
    assert p.doi == "10.18653/v1/2020.acl-main.207" and p.arxiv_id == "2004.07180"
    assert p.url == "https://aclanthology.org/2020.acl-main.207"
    assert p.abstract == SPECTER_ABSTRACT
    assert p.categories == ["citation graph", "representation learning"]
    assert p.extra["tags"] == ["citation graph", "representation learning"]
    assert p.extra["collections"] == ["Thesis/Related work"]
    assert p.extra["item_type"] == "conferencePaper"
    assert p.extra["zotero_key"] == "Q7CZ4MRE"
    assert p.extra["zotero_uri"] == "zotero://select/library/items/Q7CZ4MRE"
    assert p.extra["journal"].startswith("Proceedings of the 58th Annual Meeting")
    assert p.extra["pages"] == "2270–2282"
    assert p.extra["zotero_modified"] == T0
    # the full text is the PDF's body, read through the PDF reader
    assert p.path and p.path.endswith("storage/X7K2M9QP/" + Path(p.path).name) and p.path.endswith(".pdf")
    assert len(p.full_text) > 30_000
    assert "SCIDOCS" in p.full_text and "citation" in p.full_text
    assert len(p.extra["file_sha256"]) == 64


def test_imported_linked_and_base_relative_pdfs_give_full_text(items, library):
    papers = _papers(items)
    n18, p14, bmc = papers["doi:10.18653/v1/n18-3011"], papers["zotero:5FBJ8QKA"], papers["doi:10.1186/1752-2897-4-1"]
    assert n18.authors == N18_AUTHORS  # 23 authors in Zotero's order
    assert n18.extra["collections"] == ["Thesis"]
    assert "literature graph" in n18.full_text.lower() and len(n18.full_text) > 20_000
    assert p14.path == str((library["dir"].parent / "elsewhere" / "Dinu_Baroni_2014.pdf").resolve())
    assert "distributional" in p14.full_text and len(p14.full_text) > 20_000
    assert p14.abstract.startswith("We introduce the problem of generation in distributional semantics")  # from the PDF
    assert p14.doi is None and p14.extra["zotero_uri"] == "zotero://select/library/items/5FBJ8QKA"
    assert bmc.path == str((library["base"] / "biomed" / "Datta et al. 2010.pdf").resolve())
    assert "thromboprophylaxis" in bmc.full_text
    assert (bmc.year, bmc.published) == (2010, "2010-01-06")
    assert bmc.extra["journal"] == "Journal of Trauma Management & Outcomes"
    assert (bmc.extra["volume"], bmc.extra["issue"]) == ("4", "1")
    assert bmc.authors[1] == "Chad G. Ball"


def test_items_without_pdf_are_stored_from_metadata(items):
    papers = _papers(items)
    book, who, dpr = papers["zotero:3VTQ9RMD"], papers["zotero:K5D3SE8G"], papers["doi:10.18653/v1/2020.emnlp-main.550"]
    assert book.title == "Introduction to Information Retrieval"
    assert book.authors == ["Christopher D. Manning", "Prabhakar Raghavan", "Hinrich Schütze"]
    assert (book.year, book.published) == (2008, "2008") and book.full_text == "" and book.path is None
    assert book.extra["item_type"] == "book" and book.categories == ["textbook"]
    assert who.authors == ["World Health Organization"]  # a one-field creator
    assert (who.year, who.published) == (2023, "2023-11-07")
    assert who.extra["collections"] == ["Clinical"]
    assert dpr.extra["zotero_uri"] == "zotero://select/groups/4711/items/9PLM3ZQY"  # a group library
    assert dpr.extra["collections"] == ["Retrieval"]
    assert dpr.url == "https://doi.org/10.18653/v1/2020.emnlp-main.550"


def test_missing_attachment_is_named_and_the_item_kept(items):
    errors = [x for x in items if isinstance(x, RecordError)]
    assert len(errors) == 1
    assert errors[0].record == "zotero://select/library/items/W2XE6KHP"
    assert "storage/R9CJ4TBN/Vaswani et al. - 2017 - Attention Is All You Need.pdf" in errors[0].message
    assert "stored from its metadata" in errors[0].message
    p = _papers(items)["arxiv:1706.03762"]
    assert p.title == "Attention Is All You Need" and p.full_text == "" and p.path is None
    assert p.authors[6] == "Łukasz Kaiser" and p.year == 2017
    # the error comes right before its paper, so a report names it next to the item
    i = items.index(errors[0])
    assert isinstance(items[i + 1], Paper) and items[i + 1].id == "arxiv:1706.03762"


def test_filters_by_collection_with_subcollections_and_by_tag(library):
    with ZoteroLibrary(library["dir"]) as z:
        thesis = {p.id for p in z.papers(collections=["thesis"], read_pdfs=False)}
        assert thesis == {"arxiv:2004.07180", "doi:10.18653/v1/n18-3011", "zotero:3VTQ9RMD"}
        assert {p.id for p in z.papers(collections=["Thesis/Related work"], read_pdfs=False)} == {"arxiv:2004.07180"}
        assert {p.id for p in z.papers(collections=["Clinical", "Retrieval"], read_pdfs=False)} == {
            "doi:10.1186/1752-2897-4-1", "zotero:K5D3SE8G", "doi:10.18653/v1/2020.emnlp-main.550"}
        assert {p.id for p in z.papers(tags=["distributional semantics"], read_pdfs=False)} == {"zotero:5FBJ8QKA"}
        both = z.papers(collections=["Thesis"], tags=["textbook", "transformers"], read_pdfs=False)
        assert {p.id for p in both} == {"zotero:3VTQ9RMD"}
        assert z.count(collections=["Thesis"]) == 3 and z.count() == 8
        with pytest.raises(UsageError, match="no Zotero collection named 'thesys'") as exc:
            list(z.papers(collections=["Thesys"]))
        assert "Thesis/Related work" in str(exc.value)  # the choices are listed
        with pytest.raises(UsageError, match="no Zotero item has the tag 'nope'"):
            list(z.papers(tags=["nope"]))


def test_since_keeps_items_modified_or_with_a_modified_attachment(tmp_path):
    lib = build_library(tmp_path)
    con = sqlite3.connect(lib["dir"] / "zotero.sqlite")
    with con:
        con.execute("UPDATE items SET dateModified = '2024-03-05 08:00:00', clientDateModified = "
                    "'2024-03-05 08:00:00' WHERE key = '8NWX3JTB'")
        con.execute("UPDATE items SET clientDateModified = '2024-03-04 12:00:00' WHERE key = 'H8L2QX5T'")  # BMC's PDF
    con.close()
    with ZoteroLibrary(lib["dir"]) as z:
        assert z.last_modified() == datetime(2024, 3, 5, 8, 0, tzinfo=timezone.utc)
        got = {p.id for p in z.papers(since=datetime(2024, 3, 1), read_pdfs=False)}
        assert got == {"doi:10.18653/v1/n18-3011", "doi:10.1186/1752-2897-4-1"}
        cest = timezone(timedelta(hours=2))  # 09:30 in UTC+2 is 07:30 UTC: before 08:00, after 12:00 the day before
        assert {p.id for p in z.papers(since=datetime(2024, 3, 5, 9, 30, tzinfo=cest), read_pdfs=False)} == {
            "doi:10.18653/v1/n18-3011"}
        assert list(z.papers(since=datetime(2024, 3, 6), read_pdfs=False)) == []


def test_deletions_withdraw_trashed_and_purged_items_only(tmp_path):
    lib = build_library(tmp_path)
    with ZoteroLibrary(lib["dir"]) as z:
        first = [p for p in z.papers(read_pdfs=False) if isinstance(p, Paper)]
        stored = stored_zotero_items(first)
        assert stored["zotero://select/library/items/5FBJ8QKA"] == "zotero:5FBJ8QKA"
        assert list(z.deletions(stored)) == []
    con = sqlite3.connect(lib["dir"] / "zotero.sqlite", isolation_level=None)
    con.execute("PRAGMA foreign_keys = ON")  # Zotero runs with foreign keys on: deleting cascades
    ids = lib["ids"]
    con.execute("INSERT INTO deletedItems (itemID) VALUES (?)", (ids["p14"],))  # moved to the trash
    con.execute("DELETE FROM collectionItems WHERE itemID = (SELECT itemID FROM items WHERE key = '3VTQ9RMD')")
    con.execute("DELETE FROM items WHERE key = '3VTQ9RMD'")  # the trash emptied
    # a duplicate of N18-3011 (same DOI) is trashed: the paper stays, the other item still gives it
    dup = con.execute("INSERT INTO items (itemTypeID, libraryID, key) VALUES (33, 1, 'P2Q3R4S5')").lastrowid
    con.execute("INSERT INTO itemData VALUES (?, 26, (SELECT valueID FROM itemDataValues WHERE value = ?))",
                (dup, "10.18653/v1/N18-3011"))
    con.execute("INSERT INTO deletedItems (itemID) VALUES (?)", (dup,))
    con.close()
    stored["zotero://select/library/items/P2Q3R4S5"] = "doi:10.18653/v1/n18-3011"
    with ZoteroLibrary(lib["dir"]) as z:
        dels = list(z.deletions(stored))
        assert [type(d) for d in dels] == [Deletion]
        assert dels[0].ids == ["zotero:3VTQ9RMD", "zotero:5FBJ8QKA"]
        assert dels[0].record.endswith("zotero.sqlite")
        assert z.count() == 6  # and the withdrawn items are no longer read


def test_reads_while_zotero_holds_its_exclusive_lock(tmp_path):
    lib = build_library(tmp_path)
    db = lib["dir"] / "zotero.sqlite"
    zotero = sqlite3.connect(db, isolation_level=None)  # stands in for a running Zotero
    zotero.execute("PRAGMA locking_mode = EXCLUSIVE")
    zotero.execute("BEGIN EXCLUSIVE")
    zotero.execute("UPDATE itemDataValues SET value = 'Renamed, not yet committed' WHERE value = "
                   "'Introduction to Information Retrieval'")
    # a large transaction (an import, a sync) overflows SQLite's page cache: pages reach the file before COMMIT
    zotero.executemany("INSERT INTO itemDataValues (value) VALUES (?)", ((f"{i:05d}" + "x" * 2000,) for i in range(2000)))
    assert (lib["dir"] / "zotero.sqlite-journal").stat().st_size > 0  # a hot journal beside the file
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        sqlite3.connect(db, timeout=0.1).execute("SELECT count(*) FROM items").fetchone()
    titles = {p.title for p in read_zotero(lib["dir"], read_pdfs=False) if isinstance(p, Paper)}
    assert "Introduction to Information Retrieval" in titles  # the copy's journal was rolled back
    zotero.execute("COMMIT")  # Zotero keeps the exclusive lock after committing
    titles = {p.title for p in read_zotero(lib["dir"], read_pdfs=False) if isinstance(p, Paper)}
    assert "Renamed, not yet committed" in titles
    zotero.close()
    assert "Renamed, not yet committed" in {r[0] for r in sqlite3.connect(db).execute("SELECT value FROM itemDataValues")}


def test_corrupt_database_is_a_source_error(tmp_path):
    lib = build_library(tmp_path)
    db = lib["dir"] / "zotero.sqlite"
    data = db.read_bytes()
    db.write_bytes(data[:4096] + b"\x00" * 100)  # cut short: the header promises pages that are gone
    with pytest.raises(SourceError, match="not a readable SQLite database") as exc:
        list(read_zotero(lib["dir"], read_pdfs=False))
    assert exc.value.exit_code == 7 and "zotero.sqlite.bak" in str(exc.value)
    db.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(SourceError, match=r"not a readable SQLite database \(file is not a database\)"):
        ZoteroLibrary(lib["dir"])


def test_newer_schema_that_moved_a_column_is_named(tmp_path):
    lib = build_library(tmp_path)
    con = sqlite3.connect(lib["dir"] / "zotero.sqlite", isolation_level=None)
    con.execute("UPDATE version SET version = 140 WHERE schema = 'userdata'")
    con.close()
    with ZoteroLibrary(lib["dir"]) as z:  # newer but with the same tables: read as usual
        assert z.schema_version == 140 and z.count() == 8
    con = sqlite3.connect(lib["dir"] / "zotero.sqlite", isolation_level=None)
    con.execute("ALTER TABLE items RENAME COLUMN key TO itemKey")
    con.close()
    with pytest.raises(SourceError, match=r"schema version 140, newer than this zsearch reads .* lacks items\.key"):
        ZoteroLibrary(lib["dir"])


def test_not_a_zotero_directory(tmp_path):
    with pytest.raises(NotFound, match="no Zotero database at") as exc:
        ZoteroLibrary(tmp_path)
    assert exc.value.exit_code == 3
    sqlite3.connect(tmp_path / "zotero.sqlite").execute("CREATE TABLE x (y)").connection.close()
    with pytest.raises(SourceError, match="not a Zotero database"):
        ZoteroLibrary(tmp_path)


def test_changing_database_is_lock_busy(tmp_path, monkeypatch):
    """A file that changes during every copy (Zotero writing) ends in LockBusy, exit code 75."""
    import zsearch.sources.zotero as zmod

    lib = build_library(tmp_path)
    db = lib["dir"] / "zotero.sqlite"
    real_copy = shutil.copyfile

    def copy_while_zotero_writes(src, dst):
        out = real_copy(src, dst)
        with open(db, "ab") as fh:  # another process appends while we copy
            fh.write(b"\x00" * 16)
        return out

    monkeypatch.setattr(zmod.shutil, "copyfile", copy_while_zotero_writes)
    monkeypatch.setattr(zmod, "COPY_RETRY_WAIT", 0.0)
    with pytest.raises(LockBusy, match="kept changing") as exc:
        ZoteroLibrary(lib["dir"])
    assert exc.value.exit_code == 75


def test_extra_field_and_dates():
    extra = parse_extra("arXiv: 2004.07180\nPMID: 31234567\ntex.howpublished: x\nCitation Key: cohan2020")
    assert extra == {"arxiv": "2004.07180", "pmid": "31234567", "citation key": "cohan2020"}
    assert zotero_date("2020-07-00 July 2020") == (2020, "2020-07")
    assert zotero_date("2010-01-06 2010-01-06") == (2010, "2010-01-06")
    assert zotero_date("2008-00-00 2008") == (2008, "2008")
    assert zotero_date("0000-00-00 Spring 1999") == (1999, "1999")
    assert zotero_date("") == (None, None)


def test_second_ingest_changes_nothing_and_deletions_apply(tmp_path, tiny_bert_dir):
    """End to end through Library: every item stored, a second run unchanged, a trashed item withdrawn."""
    from zsearch.library import Library

    lib = build_library(tmp_path / "zot")
    db = Library.open(tmp_path / "db", model=str(tiny_bert_dir))
    first = db.ingest_papers(read_zotero(lib["dir"], attachments_base=lib["base"]))
    assert (first.added, first.updated, first.unchanged) == (8, 0, 0)
    assert first.failed == [("zotero://select/library/items/W2XE6KHP", first.failed[0][1])]
    assert first.exit_code == 1
    again = db.ingest_papers(read_zotero(lib["dir"], attachments_base=lib["base"]))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 8)
    stored = db.get("arxiv:2004.07180")
    assert stored.extra["zotero_uri"] == "zotero://select/library/items/Q7CZ4MRE" and "SCIDOCS" in stored.full_text
    con = sqlite3.connect(lib["dir"] / "zotero.sqlite", isolation_level=None)
    con.execute("INSERT INTO deletedItems (itemID) VALUES (?)", (lib["ids"]["bmc"],))
    con.close()
    with ZoteroLibrary(lib["dir"]) as z:
        report = db.ingest_papers(z.deletions(stored_zotero_items(db.papers())))
    assert report.deleted == 1 and "doi:10.1186/1752-2897-4-1" not in db.ids() and db.count() == 7


def test_cli_ingest_zotero_then_again_reads_nothing_new(tmp_path, tiny_bert_dir, capsys):
    """`zsearch ingest zotero`: every item, then a second run reads only what Zotero changed since."""
    import json

    from tests.conftest import run_cli
    from zsearch.library import Library

    lib = build_library(tmp_path / "zot")
    db = tmp_path / "db"
    assert Library.open(db, model=str(tiny_bert_dir)).embedder  # a database of the tiny model
    args = ["ingest", "zotero", str(lib["dir"]), "--attachments-base", str(lib["base"]), "--db", str(db),
            "--format", "json"]
    code, out, err = run_cli(args, capsys)
    first = json.loads(out)
    # the missing PDF is named, its item kept
    assert code == 1 and first["added"] == 8 and "W2XE6KHP" in first["failed"][0]["record"]
    _, out, _ = run_cli(args, capsys)
    again = json.loads(out)
    # changes nothing (items of the newest second are read again: Zotero's clock has 1 s steps)
    assert again["added"] == again["updated"] == again["deleted"] == 0
    assert Library.open(db).count() == 8
    code, out, _ = run_cli([*args, "--all"], capsys)
    assert json.loads(out)["unchanged"] == 8
