#!/usr/bin/env bash
# Fail if any data contract changed incompatibly since REV (default HEAD~1, the previous commit
# of main) without a major version bump. A contract that did not exist at REV is new: OK.
# Detection: datacontract-cli's changelog graded from both perspectives, plus Hindsight's rules
# for an append-only log (see hindsight/contracts/diff.py). Usage: check-breaking.sh [REV]
set -euo pipefail
cd "$(dirname "$0")/.."
rev="${1:-HEAD~1}"
if ! git rev-parse --verify --quiet "${rev}^{commit}" >/dev/null; then
  echo "check-breaking: ${rev} does not exist (first commit?): nothing to compare" >&2
  exit 0
fi
exec .venv/bin/python -m hindsight.contracts.cli diff --against-git "${rev}"
