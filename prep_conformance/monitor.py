"""``prep-conformance monitor``: poll a difusor's main.json at a fixed interval and log availability samples.

Each sample is one JSON line holding what was observed, not a judgement:
``{"t", "url", "status", "elapsed_s", "error", "error_kind", "headers": [[name, value], ...]}`` (the cache
headers only). The II.2.e check reads the file named by the profile's ``availability.monitor_log``;
``rules.availability`` decides up or down, and the same header rule as II.1.e judges every sample, so a
site that drops the header at 3 a.m. is seen. The loop always stops by itself (``--count`` or ``--duration``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .profile import convocatoria_of, load_profile
from .yamlsource import SourceErrors


# the response headers a sample keeps: what the header rule reads, and what tells a cache answered
KEPT_HEADERS = ("cache-control", "expires", "date", "age", "x-cache")


def probe_once(profile, conv) -> dict:
    """One look at main.json, as a JSON-ready record of what was observed (``rules.availability`` judges it)."""
    from .probes import http
    ep = http.endpoint(profile)
    obs = http.fetch_site(ep, http.url_for(ep.site, conv.main_json.path), "GET", variant="monitor")
    return {"t": round(time.time(), 3), "observed_at": round(obs.observed_at, 3), "url": obs.url,
            "status": obs.status, "elapsed_s": round(obs.elapsed_s, 4), "error": obs.error,
            "error_kind": obs.error_kind, "headers": [[k, v] for k, v in obs.headers if k.lower() in KEPT_HEADERS]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="prep-conformance monitor", description=__doc__.splitlines()[0])
    ap.add_argument("--profile", required=True, help="difusor profile")
    ap.add_argument("--log", required=True, help="JSON-lines file to append samples to")
    ap.add_argument("--interval", type=float, default=60.0, help="seconds between samples (default 60)")
    ap.add_argument("--count", type=int, default=None, help="stop after N samples")
    ap.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    ap.add_argument("--trust-profile", action="store_true",
                    help="you vouch for the profile (paths outside its folder; docs/security.md)")
    args = ap.parse_args(argv)
    if args.count is None and args.duration is None:
        ap.error("give --count or --duration: the monitor always stops by itself")
    if args.interval <= 0:
        ap.error("--interval must be positive")
    try:
        from .trust import from_options
        profile = load_profile(args.profile, trust=from_options(args.trust_profile))
    except SourceErrors as exc:
        for e in exc.errors:
            print(f"  {e}", file=sys.stderr)
        return 2
    conv = convocatoria_of(profile)
    log = Path(args.log)
    log.parent.mkdir(parents=True, exist_ok=True)
    from .rules.availability import judge_record
    start = time.monotonic()
    n = 0
    try:
        with log.open("a", encoding="utf-8") as fh:
            while True:
                sample = probe_once(profile, conv)
                fh.write(json.dumps(sample) + "\n")
                fh.flush()
                n += 1
                up, header_ok = judge_record(sample, conv.main_json.cache_control)
                print(f"{time.strftime('%H:%M:%S')} {'up  ' if up else 'DOWN'} status={sample['status']} "
                      f"{sample['elapsed_s']:.3f}s header={'ok' if header_ok else 'BAD'}",
                      flush=True)
                if args.count is not None and n >= args.count:
                    break
                next_at = start + n * args.interval
                if args.duration is not None and next_at - start > args.duration:
                    break
                time.sleep(max(0.0, next_at - time.monotonic()))
    except KeyboardInterrupt:
        print("interrumpido / interrupted", file=sys.stderr)
    print(f"{n} muestras / samples → {log}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
