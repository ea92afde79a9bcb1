"""Cold start: what a new process pays before it can search.

`import lancedb` imports LanceDB's generated REST-namespace client whole (1.4 of its 2.4 s
here); zsearch.store.tables defers that package's own __init__ to its first use.
"""

from __future__ import annotations

import json
import subprocess
import sys


def run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_opening_a_store_does_not_import_the_rest_client(tmp_path) -> None:  # type: ignore[no-untyped-def]
    got = run(f"""
import json, sys
from zsearch.store.tables import Store
st = Store({str(tmp_path)!r})
st.ensure("m", 4)
loaded = sorted(m for m in sys.modules if m.startswith("lance_namespace_urllib3_client.api"))
print(json.dumps({{"api": loaded, "count": st.count()}}))
""")
    assert got == {"api": [], "count": 0}


def test_the_rest_client_still_works_when_used() -> None:
    got = run("""
import json, sys
from zsearch.store.tables import _defer_rest_client
_defer_rest_client()
import lancedb  # noqa: F401
import lance_namespace_urllib3_client as client
print(json.dumps({"has_api": hasattr(client, "ApiClient") and hasattr(client, "Configuration"),
                  "api_loaded": any(m.startswith("lance_namespace_urllib3_client.api") for m in sys.modules)}))
""")
    assert got == {"has_api": True, "api_loaded": True}
