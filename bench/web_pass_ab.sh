#!/usr/bin/env bash
# Interleaved before/after timing of one difusor's web pass: this VM's speed drifts within minutes, so the
# two trees take turns, run after run. Each tree needs its own .venv (bootstrap.sh) and the lab up with
# `compliant` (python -m prep_conformance.lab up --scenario compliant).
#   bash bench/web_pass_ab.sh BEFORE_TREE AFTER_TREE [ROUNDS=6] [PROFILE]
# Per run: the fresh `pytest` over the four web check modules (no HTML) and `prep-conformance run --only`
# over the same four requirements (every module collected, junit XML and HTML reports); medians at the end.
set -euo pipefail
before=$(realpath "$1"); after=$(realpath "$2"); rounds=${3:-6}
profile=${4:-${PREP_LAB_DIR:-/var/lib/prep-conformance/lab}/profiles/compliant.yaml}
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
for i in $(seq "$rounds"); do
  for tree in "$before" "$after"; do
    cd "$tree"
    /usr/bin/time -o "$out/t1" -f "%e" .venv/bin/python -m pytest -q -p no:cacheprovider -p no:locust --assert=plain \
      checks/test_caching.py checks/test_https.py checks/test_webserver.py checks/test_public.py \
      --prep-profile "$profile" --prep-out "$out/pass" --prep-no-html --prep-trust-profile >/dev/null 2>&1 || true
    /usr/bin/time -o "$out/t2" -f "%e" .venv/bin/prep-conformance run --profile "$profile" --trust-profile \
      --only II.1.e --only II.2.d.https --only II.1.b --only I.3 --out "$out/cli" >/dev/null 2>&1 || true
    echo "$tree pass $(tail -1 "$out/t1") cli $(tail -1 "$out/t2")" | tee -a "$out/all"
  done
done
python3 - "$out/all" <<'PY'
import collections, statistics, sys
d = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(sys.argv[1]):
    tree, _, p, _, c = line.split()
    d[tree]["pass"].append(float(p)); d[tree]["cli"].append(float(c))
for tree, v in d.items():
    print(f"{tree}: " + ", ".join(f"{k} median {statistics.median(x):.2f} s ({min(x):.2f}-{max(x):.2f})" for k, x in v.items()))
PY
