#!/usr/bin/env bash
# The demo, one command on a fresh Debian 12 machine (as root):
#   bootstrap, lab up, every check against every lab scenario, reports in reports/, lab down,
#   then the path of index.html and the scenario x verdict table (does each scenario get what it declares?).
# Usage: bash scripts/demo.sh [--keep] [--scenario ID ...] [--out DIR]
# Exit: 0 every scenario got exactly what it declares; 1 some did not; 2 the lab or the run failed.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
bash ./bootstrap.sh
# A state folder and ports of its own, so the demo never touches a lab someone left up.
export PREP_LAB_DIR=${PREP_LAB_DIR:-/var/lib/prep-conformance/demo}
export PREP_LAB_PORT_BASE=${PREP_LAB_PORT_BASE:-21000}
set +e
.venv/bin/python -m prep_conformance.lab demo --out "${OUT:-reports}" "$@"
code=$?
set -e
echo "demo finished in $(( $(date +%s) - t0 )) s (exit $code)"
exit $code
