"""Databases in object storage (``s3://``, ``gs://``, ``az://``): how they are opened, what they cannot do.

LanceDB opens such a URI itself (https://docs.lancedb.com/storage/configuration) and reads
credentials, region and endpoint from the environment: ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``, ``AWS_ENDPOINT_URL`` (an S3-compatible server such
as MinIO), ``AWS_ALLOW_HTTP=true`` (one without TLS); ``GOOGLE_SERVICE_ACCOUNT`` for gs://;
``AZURE_STORAGE_ACCOUNT_NAME`` / ``AZURE_STORAGE_ACCOUNT_KEY`` for az://. zsearch passes none
of them on itself, so no secret is ever written into a zsearch file or message.

Each table commit is atomic in object storage too (Lance writes a new manifest with a
conditional put), so a write that fails half-way leaves the table at its last committed
version. What is not shared through the bucket: the writer lock and the commit journal live
in the local state directory (zsearch.config.state_dir), so one machine at a time writes.
"""

from __future__ import annotations

import re
from typing import Any

from zsearch.errors import SourceError, UsageError


def need_local(uri: str | None, what: str) -> None:
    """UsageError naming ``what`` when the database is in object storage."""
    if uri:
        raise UsageError(f"{what} needs a database on this machine's disk, not {uri}",
                         hint="copy it down (`aws s3 sync`), run it there, and copy it back")


def stored_bytes(store: Any) -> int:
    """Bytes of the tables' current versions, as Lance counts them (old versions and indexes not included)."""
    total = 0
    for table in (store.papers, store.chunks):
        total += int(table.stats().get("total_bytes") or 0)
    return total


def unreachable(uri: str, exc: BaseException) -> SourceError:
    """The one-line error for an object store LanceDB could not open (no server, no bucket, no rights)."""
    text = " ".join(str(exc).split())
    found = re.search(r'message: "([^"]+)"', text) or re.search(r"status: (\d{3}[^,}]*)", text)
    reason = found.group(1) if found else (text[:160] + ("…" if len(text) > 160 else ""))
    return SourceError(f"cannot open the database at {uri}: {reason}",
                       hint="check the bucket and the AWS_* / GOOGLE_* / AZURE_* settings in the environment")
