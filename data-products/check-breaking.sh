#!/usr/bin/env bash
# Fail if any data contract changed incompatibly since its last released version (the copies
# under data-products/released/, recorded by `hindsight contracts release`) without a major
# version bump, or if a released contract was removed without being declared in retired.yaml.
# No released copies is an error, never a pass. With REV, compare with that git revision
# instead (a REV that does not exist is an error too). Detection: datacontract-cli's changelog
# graded from both perspectives, plus Hindsight's rules for an append-only log
# (hindsight/contracts/diff.py). Usage: check-breaking.sh [REV]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
  exec .venv/bin/python -m entrypoints.cli.contracts diff --against-released
fi
rev="$1"
if ! git rev-parse --verify --quiet "${rev}^{commit}" >/dev/null; then
  echo "check-breaking: ${rev} is not a commit here (a shallow clone?): nothing to compare with" >&2
  exit 2
fi
exec .venv/bin/python -m entrypoints.cli.contracts diff --against-git "${rev}"
