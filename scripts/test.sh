#!/usr/bin/env bash
# Set everything up (Debian packages, .venv) and run the whole test suite against the reference lab.
# Usage (as root on Debian 12): bash scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash ./bootstrap.sh
set +e
.venv/bin/python -m pytest tests -p no:cacheprovider -ra "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$code"
