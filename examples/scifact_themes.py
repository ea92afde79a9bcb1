"""Build the 90-abstract SciFact database that docs/reviews.md's theme map is drawn from.

    python examples/scifact_themes.py DB [--corpus ../shared/data/beir/scifact/corpus.jsonl]
    zsearch cluster "how do infections and metabolic disorders respond to treatment" \\
        --db DB --top 50 --k auto --plot docs/img/cluster-map.png

Takes the first 15 abstracts (corpus order) whose title names each of six topics.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from zsearch.library import Library
from zsearch.papers.model import Paper

TOPICS = ["tuberculosis", "malaria", "insulin", "microRNA", "HIV", "obesity"]
PER_TOPIC = 15
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "beir" / "scifact" / "corpus.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("db", type=Path)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    args = ap.parse_args()
    got: dict[str, list[Paper]] = {t: [] for t in TOPICS}
    with args.corpus.open(encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            topic = next((t for t in TOPICS if t.lower() in d["title"].lower() and len(got[t]) < PER_TOPIC), None)
            if topic:
                got[topic].append(Paper(id=f"beir:scifact:{d['_id']}", source="beir", title=d["title"],
                                        abstract=d["text"]))
    papers = [p for ps in got.values() for p in ps]
    report = Library.open(args.db).ingest_papers(papers)
    print(f"{report.added} papers added to {args.db}: " + ", ".join(f"{t} {len(ps)}" for t, ps in got.items()))


if __name__ == "__main__":
    main()
