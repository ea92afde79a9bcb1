#!/usr/bin/env bash
# The main job on the bundled default model: ingest the example papers, then search them.
# Run from the repository root with the virtual environment's `zsearch` on PATH.
set -euo pipefail
export ZSEARCH_HOME="${ZSEARCH_HOME:-.zsearch-example}"
# The folder holds one deliberately broken PDF: ingest names it and exits 1; the others are stored.
zsearch ingest pdf examples/papers || [ $? -eq 1 ]
zsearch stats
zsearch search "document-level representation learning using citation-informed transformers" -k 3
zsearch search "citation recommendation" -k 3 --format json
