"""Zotero source: a Zotero data directory (``zotero.sqlite`` + ``storage/``) -> Paper, read-only.

**Reading without disturbing Zotero: a private copy, not ``?immutable=1``.** A running Zotero
holds ``zotero.sqlite`` under SQLite's exclusive locking mode, so a second connection gets
"database is locked". This module never opens Zotero's file with SQLite: it copies
``zotero.sqlite`` (and a ``-journal``/``-wal`` beside it, if one exists) into a private
temporary directory and reads the copy. ``file:…?immutable=1`` would skip the lock too, but
it also tells SQLite to ignore the rollback journal and to assume the file never changes, so
a read overlapping a Zotero write can see half a transaction (SQLite's documentation warns of
wrong results or SQLITE_CORRUPT). The copy is taken when size and mtime of every file are the
same before and after copying (else it is copied again; after ``COPY_TRIES`` it is
:class:`~zsearch.errors.LockBusy`), and SQLite rolls a copied hot journal back when it opens
the copy, so what is read is Zotero's last committed state. Cost: one copy of the file per run.

What comes out: one :class:`~zsearch.papers.model.Paper` (``source="zotero"``) per regular item
(not attachments, notes, annotations, trashed items or feed items), with the item's own
metadata; the first readable PDF attachment (stored in ``storage/KEY/`` or linked) goes through
the PDF reader for the full text. Ids: ``canonical_id`` from the item's arXiv id, PMID or DOI
(also read from the Extra field's ``arXiv:``/``PMID:``/``DOI:`` lines), else ``zotero:KEY``
(``zotero:groups/ID/KEY`` in a group library). ``url`` stays the item's web address (merging,
hits and exports read it as one); the link back is ``extra["zotero_uri"]``
(``zotero://select/library/items/KEY``), the key ``extra["zotero_key"]``. Tags become
``categories`` (so ``--category`` filters on them) and ``extra["tags"]``; collection paths are
``extra["collections"]``.

A little over 400 lines, kept as one piece: the schema check, the selection SQL and the
item -> Paper mapping all encode the same Zotero tables, and change together when Zotero's
schema does. What stands alone (identifiers, dates, attached PDFs, the SQLite snapshot) is in
zsearch.sources.records, shared with the BibTeX source.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from zsearch.errors import NotFound, RecordError, SourceError, UsageError
from zsearch.papers.model import Deletion, Paper, display_title
from zsearch.sources.records import identifiers, paper_id, read_attached_pdfs, snapshot_sqlite, zotero_date

DB_NAME = "zotero.sqlite"
# Copies tried before giving up on a file that changes while it is copied (Zotero writing).
COPY_TRIES = 3
# Seconds to wait before copying again; Zotero's writes are short transactions.
COPY_RETRY_WAIT = 0.5
# Items read per SQL round trip (under SQLite's bound-parameter limit: 999 before 3.32, 32,766 since).
CHUNK = 500
# The userdata schema the tests build (tests/data/zotero/schema/userdata.sql, "-- 107").
TESTED_USERDATA = 107
# The newest userdata schema whose tables were checked against what this module reads
# (zotero/zotero resource/schema/userdata.sql "-- 123", Zotero 7).
NEWEST_KNOWN_USERDATA = 123
# Zotero.Attachments.LINK_MODE_*: imported file, imported URL, linked file (linked URL = 3 has no file).
FILE_LINK_MODES = (0, 1, 2)
PDF_TYPE = "application/pdf"
# Tables and columns read; one of each (first, second) pair is needed too.
REQUIRED = {
    "items": ("itemID", "itemTypeID", "key", "libraryID", "dateModified", "clientDateModified"),
    "itemData": ("itemID", "fieldID", "valueID"),
    "itemDataValues": ("valueID", "value"),
    "creators": ("creatorID", "firstName", "lastName", "fieldMode"),
    "itemCreators": ("itemID", "creatorID", "creatorTypeID", "orderIndex"),
    "creatorTypes": ("creatorTypeID", "creatorType"),
    "tags": ("tagID", "name"),
    "itemTags": ("itemID", "tagID"),
    "collections": ("collectionID", "collectionName", "parentCollectionID", "libraryID"),
    "collectionItems": ("collectionID", "itemID"),
    "itemAttachments": ("itemID", "parentItemID", "linkMode", "contentType", "path"),
    "itemNotes": ("itemID",),
    "deletedItems": ("itemID",),
    "libraries": ("libraryID", "type"),
    "groups": ("groupID", "libraryID"),
}
EITHER = {("fieldsCombined", "fields"): ("fieldID", "fieldName"),
          ("itemTypesCombined", "itemTypes"): ("itemTypeID", "typeName")}
NON_REGULAR = ("attachment", "note", "annotation")
TITLE_FIELDS = ("title", "caseName", "nameOfAct", "subject")  # base field "title" and its mapped names
VENUE_FIELDS = ("publicationTitle", "proceedingsTitle", "bookTitle", "websiteTitle", "blogTitle",
                "forumTitle", "encyclopediaTitle", "dictionaryTitle", "programTitle")


def default_zotero_dir() -> Path:
    """Zotero's default data directory: ``~/Zotero`` on every platform since Zotero 5."""
    return Path.home() / "Zotero"


def _utc_text(since: datetime) -> str:
    """A datetime as Zotero writes its timestamps (UTC, ``YYYY-MM-DD HH:MM:SS``); naive means UTC."""
    if since.tzinfo is not None:
        since = since.astimezone(timezone.utc).replace(tzinfo=None)
    return since.strftime("%Y-%m-%d %H:%M:%S")


def _qmarks(n: int) -> str:
    return ",".join("?" * n)


class ZoteroLibrary:
    """A read-only snapshot of a Zotero data directory; use as a context manager.

    ``attachments_base`` is Zotero's "Linked Attachment Base Directory" (Settings → Advanced →
    Files and Folders), needed only for linked files stored as ``attachments:relative/path``.
    """

    def __init__(self, data_dir: str | Path, *, attachments_base: str | Path | None = None) -> None:
        self.data_dir = Path(data_dir).expanduser()
        self.db_path = self.data_dir / DB_NAME
        if not self.db_path.is_file():
            raise NotFound(f"no Zotero database at {self.db_path}",
                           hint="give Zotero's data directory (Zotero: Settings → Advanced → Files and Folders)")
        self.attachments_base = Path(attachments_base).expanduser() if attachments_base else None
        self._tmp = Path(tempfile.mkdtemp(prefix="zsearch-zotero-"))
        try:
            self.con = self._open(self._snapshot())
            self.schema_version = self._check_schema()
            self._libraries = self._read_libraries()
            self._collections = self._read_collections()
        except BaseException:
            self.close()
            raise

    # -- opening ----------------------------------------------------------------------------
    def _snapshot(self) -> Path:
        return snapshot_sqlite(self.db_path, self._tmp, tries=COPY_TRIES, wait=COPY_RETRY_WAIT)

    def _open(self, path: Path) -> sqlite3.Connection:
        con = sqlite3.connect(path)
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()  # rolls a hot journal back
            con.execute("PRAGMA query_only = ON")
        except sqlite3.DatabaseError as exc:
            con.close()
            raise self._corrupt(exc) from exc
        return con

    def _corrupt(self, exc: Exception) -> SourceError:
        return SourceError(f"{self.db_path} is not a readable SQLite database ({exc})",
                           hint="Zotero keeps backups as zotero.sqlite.bak in the same folder")

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        try:
            return self.con.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from exc

    def _check_schema(self) -> int:
        tables = {r[0] for r in self._q("SELECT name FROM sqlite_master WHERE type='table'")}
        if "version" not in tables:
            raise SourceError(f"{self.db_path} is not a Zotero database (it has no version table)")
        row = self._q("SELECT version FROM version WHERE schema='userdata'")
        version = int(row[0][0]) if row and str(row[0][0]).isdigit() else 0
        missing = []
        for table, cols in REQUIRED.items():
            have = {r[1] for r in self._q(f"PRAGMA table_info('{table}')")} if table in tables else set()
            missing += [f"{table}.{c}" for c in cols if c not in have]
        self._tables: dict[str, str] = {}
        for pair, cols in EITHER.items():
            for t in pair:
                have = {r[1] for r in self._q(f"PRAGMA table_info('{t}')")} if t in tables else set()
                if set(cols) <= have and self._q(f"SELECT 1 FROM {t} LIMIT 1"):
                    self._tables[pair[1]] = t
                    break
            else:
                missing.append(f"{pair[0]} or {pair[1]} (filled)")
        self._has_annotations = "itemAnnotations" in tables
        self._has_primary = "itemTypeCreatorTypes" in tables
        if missing:
            what = ", ".join(missing[:4]) + (" …" if len(missing) > 4 else "")
            if version > NEWEST_KNOWN_USERDATA:
                raise SourceError(f"{self.db_path} has Zotero schema version {version}, newer than this zsearch "
                                  f"reads (up to {NEWEST_KNOWN_USERDATA}), and lacks {what}", hint="update zsearch")
            if 0 < version < TESTED_USERDATA:
                raise SourceError(f"{self.db_path} has an old Zotero schema (version {version}) that lacks {what}",
                                  hint="open it once in a current Zotero to upgrade it")
            raise SourceError(f"{self.db_path} is not a Zotero database this zsearch can read: it lacks {what}")
        return version

    def _read_libraries(self) -> dict[int, str]:
        groups = dict(self._q("SELECT libraryID, groupID FROM groups"))
        out = {}
        for lib_id, kind in self._q("SELECT libraryID, type FROM libraries"):
            if kind == "user":
                out[lib_id] = "library"
            elif kind == "group" and lib_id in groups:
                out[lib_id] = f"groups/{groups[lib_id]}"
        return out  # feeds (type 'feed') are left out: they are not the user's library

    def _read_collections(self) -> dict[int, str]:
        rows = {cid: (name, parent) for cid, name, parent in
                self._q("SELECT collectionID, collectionName, parentCollectionID FROM collections")}

        def path(cid: int, seen: frozenset = frozenset()) -> str:
            name, parent = rows[cid]
            if parent in rows and parent not in seen:
                return f"{path(parent, seen | {cid})}/{name}"
            return name

        return {cid: path(cid) for cid in rows}

    def close(self) -> None:
        con = getattr(self, "con", None)
        if con is not None:
            con.close()
            self.con = None  # type: ignore[assignment]
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> "ZoteroLibrary":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- selecting --------------------------------------------------------------------------
    def _where(self, *, since: datetime | None = None, collections: Iterable[str] = (),
               tags: Iterable[str] = ()) -> tuple[str, list[Any]]:
        types = self._tables["itemTypes"]
        conds = [f"i.itemTypeID NOT IN (SELECT itemTypeID FROM {types} WHERE typeName IN ({_qmarks(3)}))",
                 "i.itemID NOT IN (SELECT itemID FROM itemAttachments)",
                 "i.itemID NOT IN (SELECT itemID FROM itemNotes)",
                 "i.itemID NOT IN (SELECT itemID FROM deletedItems)",
                 f"i.libraryID IN ({_qmarks(len(self._libraries))})"]
        params: list[Any] = [*NON_REGULAR, *self._libraries]
        if self._has_annotations:
            conds.append("i.itemID NOT IN (SELECT itemID FROM itemAnnotations)")
        coll_ids = self.collection_ids(collections)
        if coll_ids is not None:
            conds.append(f"i.itemID IN (SELECT itemID FROM collectionItems WHERE collectionID IN ({_qmarks(len(coll_ids))}))")
            params += sorted(coll_ids)
        tag_list = [t.strip().lower() for t in tags if t.strip()]
        if tag_list:
            known = {r[0] for r in self._q(f"SELECT lower(name) FROM tags WHERE lower(name) IN ({_qmarks(len(tag_list))})",
                                           tag_list)}
            unknown = [t for t in tag_list if t not in known]
            if unknown:
                raise UsageError(f"no Zotero item has the tag {unknown[0]!r}")
            conds.append("i.itemID IN (SELECT it.itemID FROM itemTags it JOIN tags t ON t.tagID = it.tagID "
                         f"WHERE lower(t.name) IN ({_qmarks(len(tag_list))}))")
            params += tag_list
        if since is not None:
            s = _utc_text(since)
            conds.append("(max(i.dateModified, i.clientDateModified) >= ? OR i.itemID IN (SELECT a.parentItemID "
                         "FROM itemAttachments a JOIN items c ON c.itemID = a.itemID "
                         "WHERE max(c.dateModified, c.clientDateModified) >= ?))")
            params += [s, s]
        return " AND ".join(conds), params

    def collection_ids(self, names: Iterable[str]) -> set[int] | None:
        """Collections named ``names`` (name or ``Parent/Child`` path, any case) and their
        sub-collections; ``None`` when no names are given. An unknown name is a UsageError."""
        wanted = [n.strip().strip("/").lower() for n in names if n.strip()]
        if not wanted:
            return None
        paths = self._collections
        found: set[int] = set()
        for w in wanted:
            hit = {cid for cid, p in paths.items() if w in (p.lower(), p.rsplit("/", 1)[-1].lower())}
            if not hit:
                choices = ", ".join(sorted(paths.values())[:20]) or "none"
                raise UsageError(f"no Zotero collection named {w!r}", hint=f"collections: {choices}")
            found |= hit
        for cid in list(found):
            prefix = paths[cid].lower() + "/"
            found |= {c for c, p in paths.items() if p.lower().startswith(prefix)}
        return found

    def count(self, **filters: Any) -> int:
        """How many items :meth:`papers` would yield with the same filters (for a progress bar)."""
        where, params = self._where(**filters)
        return int(self._q(f"SELECT count(*) FROM items i WHERE {where}", params)[0][0])

    def last_modified(self) -> datetime | None:
        """The newest modification time in the library (UTC): the ``since`` for the next run."""
        row = self._q("SELECT max(max(dateModified, clientDateModified)) FROM items")
        if not row or not row[0][0]:
            return None
        return datetime.strptime(str(row[0][0])[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)

    # -- reading ----------------------------------------------------------------------------
    def papers(self, *, since: datetime | None = None, collections: Iterable[str] = (), tags: Iterable[str] = (),
               read_pdfs: bool = True) -> Iterator[Paper | RecordError]:
        """A Paper per regular item (filtered), preceded by a RecordError per unreadable PDF of an
        item stored without full text. ``since`` keeps items modified at or after it (their own
        ``dateModified`` or an attachment's); ``collections`` and ``tags`` keep items in any of
        the collections (or their sub-collections) and with any of the tags."""
        where, params = self._where(since=since, collections=collections, tags=tags)
        rows = self._q(f"SELECT i.itemID, i.key, i.libraryID, t.typeName, i.dateModified FROM items i "
                       f"JOIN {self._tables['itemTypes']} t ON t.itemTypeID = i.itemTypeID WHERE {where} "
                       "ORDER BY i.itemID", params)
        for start in range(0, len(rows), CHUNK):
            yield from self._papers(rows[start:start + CHUNK], read_pdfs)

    def _papers(self, rows: list[tuple], read_pdfs: bool) -> Iterator[Paper | RecordError]:
        ids = [r[0] for r in rows]
        fields = self._fields(ids)
        creators = self._grouped("SELECT ic.itemID, c.firstName, c.lastName, c.fieldMode, ct.creatorType "
                                 "FROM itemCreators ic JOIN creators c ON c.creatorID = ic.creatorID "
                                 "JOIN creatorTypes ct ON ct.creatorTypeID = ic.creatorTypeID "
                                 "WHERE ic.itemID IN ({}) ORDER BY ic.itemID, ic.orderIndex", ids)
        tags = self._grouped("SELECT it.itemID, t.name FROM itemTags it JOIN tags t ON t.tagID = it.tagID "
                             "WHERE it.itemID IN ({})", ids)
        colls = self._grouped("SELECT itemID, collectionID FROM collectionItems WHERE itemID IN ({})", ids)
        pdfs = self._grouped("SELECT a.parentItemID, i.key, a.linkMode, a.contentType, a.path "
                             "FROM itemAttachments a JOIN items i ON i.itemID = a.itemID "
                             "WHERE a.parentItemID IN ({}) AND a.itemID NOT IN (SELECT itemID FROM deletedItems) "
                             "ORDER BY a.parentItemID, i.dateAdded, a.itemID", ids)
        primary = self._primary_creator_types()
        for item_id, key, lib_id, item_type, modified in rows:
            paper = self._paper(key, self._libraries[lib_id], item_type, modified, fields.get(item_id, {}),
                                creators.get(item_id, []), primary.get(item_type),
                                sorted({t[0] for t in tags.get(item_id, [])}, key=str.lower),
                                sorted({self._collections[c[0]] for c in colls.get(item_id, [])
                                        if c[0] in self._collections}))
            files = [(p, paper.extra["zotero_uri"]) for p in self._pdf_paths(pdfs.get(item_id, []))]
            errors: list[RecordError] = []
            if read_pdfs and files:
                paper, errors = read_attached_pdfs(paper, files)
            yield from errors
            yield paper

    def _grouped(self, sql: str, ids: list[int]) -> dict[int, list[tuple]]:
        out: dict[int, list[tuple]] = {}
        for row in self._q(sql.format(_qmarks(len(ids))), ids):
            out.setdefault(row[0], []).append(row[1:])
        return out

    def _fields(self, ids: list[int]) -> dict[int, dict[str, str]]:
        rows = self._q(f"SELECT d.itemID, f.fieldName, v.value FROM itemData d "
                       f"JOIN {self._tables['fields']} f ON f.fieldID = d.fieldID "
                       f"JOIN itemDataValues v ON v.valueID = d.valueID WHERE d.itemID IN ({_qmarks(len(ids))})", ids)
        out: dict[int, dict[str, str]] = {}
        for item_id, name, value in rows:
            if value is not None and str(value).strip():
                out.setdefault(item_id, {})[name] = str(value)
        return out

    def _primary_creator_types(self) -> dict[str, str]:
        if not self._has_primary:
            return {}
        rows = self._q(f"SELECT t.typeName, ct.creatorType FROM itemTypeCreatorTypes x "
                       f"JOIN {self._tables['itemTypes']} t ON t.itemTypeID = x.itemTypeID "
                       "JOIN creatorTypes ct ON ct.creatorTypeID = x.creatorTypeID WHERE x.primaryField = 1")
        return dict(rows)

    def _pdf_paths(self, attachments: list[tuple]) -> list[Path]:
        out = []
        for att_key, mode, ctype, path in attachments:
            if mode not in FILE_LINK_MODES or not path:
                continue
            if ctype != PDF_TYPE and not str(path).lower().endswith(".pdf"):
                continue
            if path.startswith("storage:"):
                out.append(self.data_dir / "storage" / att_key / path[len("storage:"):])
            elif path.startswith("attachments:"):
                rel = path[len("attachments:"):]
                out.append(self.attachments_base / rel if self.attachments_base else Path(path))
            else:
                out.append(Path(path))
        return out

    def _paper(self, key: str, library: str, item_type: str, modified: str, fields: Mapping[str, str],
               creators: list[tuple], primary_type: str | None, tags: list[str], collections: list[str]) -> Paper:
        ids = identifiers(fields)
        names = [(ln or "").strip() if mode == 1 else f"{fn or ''} {ln or ''}".strip()
                 for fn, ln, mode, _ in creators]
        kinds = [kind for *_, kind in creators]
        wanted = {"author", primary_type or "author"}
        authors = [n for n, k in zip(names, kinds) if k in wanted and n] or [n for n in names if n]
        year, published = zotero_date(fields.get("date"))
        uri = f"zotero://select/{library}/items/{key}"
        extra: dict[str, Any] = {"zotero_key": key, "zotero_uri": uri, "item_type": item_type,
                                 "zotero_modified": str(modified)}
        editors = [n for n, k in zip(names, kinds) if k == "editor" and n]
        venue = next((fields[f] for f in VENUE_FIELDS if fields.get(f)), None)
        for name, value in (("journal", venue), ("volume", fields.get("volume")), ("issue", fields.get("issue")),
                            ("pages", fields.get("pages")), ("pmcid", ids["pmcid"]),
                            ("citation_key", ids["citation_key"]), ("editors", editors),
                            ("tags", tags), ("collections", collections)):
            if value:
                extra[name] = value
        doi = ids["doi"]
        return Paper(
            id=paper_id(ids, f"zotero:{key}" if library == "library" else f"zotero:{library}/{key}"),
            source="zotero",
            title=display_title(next((fields[f] for f in TITLE_FIELDS if fields.get(f)), "")),
            abstract=" ".join((fields.get("abstractNote") or "").split()),
            authors=authors,
            year=year,
            published=published,
            doi=doi,
            arxiv_id=ids["arxiv_id"],
            pmid=ids["pmid"],
            url=fields.get("url") or (f"https://doi.org/{doi}" if doi else None),
            categories=list(tags),
            extra=extra,
        )

    # -- deletions --------------------------------------------------------------------------
    def deletions(self, stored: Mapping[str, str]) -> Iterator[Deletion]:
        """One Deletion (if any) of the stored papers whose Zotero item is gone or in the trash.

        ``stored`` maps ``extra["zotero_uri"]`` to paper id for papers stored from this library
        (:func:`stored_zotero_items`). A paper whose id another live item still gives (a
        duplicate item with the same DOI) is kept. Filters do not apply: an item outside a
        ``--collection`` is not deleted.
        """
        where, params = self._where()
        rows = self._q(f"SELECT i.itemID, i.key, i.libraryID FROM items i WHERE {where}", params)
        live_uris = {f"zotero://select/{self._libraries[lib]}/items/{key}" for _, key, lib in rows}
        live_ids: set[str] = set()
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            fields = self._fields([r[0] for r in chunk])
            for item_id, key, lib in chunk:
                library = self._libraries[lib]
                fb = f"zotero:{key}" if library == "library" else f"zotero:{library}/{key}"
                live_ids.add(paper_id(identifiers(fields.get(item_id, {})), fb))
        gone = sorted({pid for uri, pid in stored.items() if uri not in live_uris and pid not in live_ids})
        if gone:
            yield Deletion(ids=gone, record=str(self.db_path))


def stored_zotero_items(papers: Iterable[Paper]) -> dict[str, str]:
    """``{zotero_uri: paper id}`` of stored papers that came from Zotero (input to :meth:`ZoteroLibrary.deletions`)."""
    return {str(p.extra["zotero_uri"]): p.id for p in papers if isinstance(p.extra, dict) and p.extra.get("zotero_uri")}


def read_zotero(data_dir: str | Path | None = None, *, since: datetime | None = None, collections: Iterable[str] = (),
                tags: Iterable[str] = (), attachments_base: str | Path | None = None,
                read_pdfs: bool = True) -> Iterator[Paper | RecordError]:
    """Papers of a Zotero data directory (default :func:`default_zotero_dir`); see :meth:`ZoteroLibrary.papers`."""
    with ZoteroLibrary(data_dir or default_zotero_dir(), attachments_base=attachments_base) as lib:
        yield from lib.papers(since=since, collections=collections, tags=tags, read_pdfs=read_pdfs)
