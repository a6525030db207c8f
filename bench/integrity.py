"""Benchmark: the I.6 integrity pass (every manifest file fetched and SHA-256'd) against plain tools.

Against a lab scenario (default ``compliant-large``: the realistic paquete, ~2 400 files, ~40 MB),
through the public HTTPS front and the Varnish edge, in one run and on the same file list:

* ``harness[wN]``: ``probes.publication.observe`` with N workers (fetch + hash + main.json parsing);
* ``curl loop``: one ``curl -s ... | sha256sum`` per file, as a person would script it;
* ``curl -K``: one curl process, every URL in a config file (keep-alive), then ``sha256sum`` of the files;
* ``wget -i``: one wget process with the URL list (keep-alive), then ``sha256sum``.

    .venv/bin/python bench/integrity.py [--profile PROFILE.yaml | --scenario compliant-large]
                                        [--workers 1,4,8,16,32] [--runs 3] [--skip-loop] [--json out.json]

The lab must be up (``python -m prep_conformance.lab up --scenario compliant-large``). The edge is warmed
by a first pass so every tool sees the same cache state. The machine is shared: quote medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prep_conformance import paquete  # noqa: E402
from prep_conformance.probes import publication as pub  # noqa: E402
from prep_conformance.profile import load_profile  # noqa: E402
from prep_conformance.trust import TRUSTED  # noqa: E402


def _curl_resolve(prof) -> list[str]:
    p = urlsplit(prof.target_url)
    port = p.port or (443 if p.scheme == "https" else 80)
    args = [f"--resolve", f"{p.hostname}:{port}:{prof.http.resolve[p.hostname]}"] if p.hostname in prof.http.resolve else []
    if prof.http.ca_bundle:
        args += ["--cacert", prof.http.ca_bundle]
    return args


def _wget_args(prof) -> list[str]:
    # wget has no --resolve: only usable when the name resolves; we pass the CA and rely on /etc/hosts.
    return ["--ca-certificate", prof.http.ca_bundle] if prof.http.ca_bundle else []


def _hash_dir(d: Path, rels: list[str]) -> dict[str, str]:
    out = subprocess.run(["sha256sum", "--"] + rels, cwd=d, capture_output=True, text=True, check=False).stdout
    return {line[66:]: line[:64] for line in out.splitlines()}


def run_harness(prof, package, workers: int) -> tuple[float, int, bool]:
    t0 = time.perf_counter()
    with pub.session_for(prof, workers) as s:
        obs = pub.observe(prof.target_url, package, s, workers=workers, timeout=prof.http.timeout_s)
    dt = time.perf_counter() - t0
    ok = all(obs.served[p].sha256 == d for p, d in obs.paquete.manifest.items())
    return dt, len(obs.paquete.manifest), ok


def run_curl_loop(prof, urls: list[tuple[str, str]], manifest) -> tuple[float, bool]:
    extra = " ".join(shlex.quote(a) for a in _curl_resolve(prof))
    script = "\n".join(f"printf '%s ' {shlex.quote(rel)}; curl -s {extra} {shlex.quote(u)} | sha256sum"
                       for rel, u in urls)
    t0 = time.perf_counter()
    out = subprocess.run(["bash", "-s"], input=script, capture_output=True, text=True, check=False).stdout
    dt = time.perf_counter() - t0
    got = dict(line.split()[:2] for line in out.splitlines() if line.strip())
    return dt, all(got.get(rel) == manifest[rel] for rel, _ in urls)


def run_curl_config(prof, urls, manifest) -> tuple[float, bool]:
    with tempfile.TemporaryDirectory() as d:
        cfg = Path(d) / "urls.cfg"
        cfg.write_text("".join(f'url = "{u}"\noutput = "{d}/f/{rel}"\n' for rel, u in urls))
        t0 = time.perf_counter()
        subprocess.run(["curl", "-s", "--create-dirs", *_curl_resolve(prof), "-K", str(cfg)], check=False)
        got = _hash_dir(Path(d) / "f", [rel for rel, _ in urls])
        dt = time.perf_counter() - t0
    return dt, all(got.get(rel) == manifest[rel] for rel, _ in urls)


def run_wget(prof, urls, manifest) -> tuple[float, bool] | None:
    host = urlsplit(prof.target_url).hostname
    try:
        import socket
        socket.gethostbyname(host)
    except OSError:
        return None                                     # no --resolve in wget: skipped unless /etc/hosts has it
    with tempfile.TemporaryDirectory() as d:
        lst = Path(d) / "urls.txt"
        lst.write_text("".join(u + "\n" for _, u in urls))
        t0 = time.perf_counter()
        subprocess.run(["wget", "-q", "-x", "-nH", "-P", f"{d}/f", *_wget_args(prof), "-i", str(lst)], check=False)
        got = _hash_dir(Path(d) / "f", [rel for rel, _ in urls])
        dt = time.perf_counter() - t0
    return dt, all(got.get(rel) == manifest[rel] for rel, _ in urls)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile")
    ap.add_argument("--scenario", default="compliant-large")
    ap.add_argument("--workers", default="1,4,8,16,32")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-loop", action="store_true", help="skip the one-curl-per-file loop (slow)")
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    if a.profile:
        path = Path(a.profile)
    else:
        from prep_conformance.lab import Lab
        path = Lab().profile_path(a.scenario)
    prof = load_profile(path, trust=TRUSTED)   # an operator-chosen or lab profile
    pq = paquete.load_paquete(prof.package)
    manifest = dict(pq.manifest)
    urls = [(rel, pub.file_url(prof.target_url, rel)) for rel in sorted(manifest)]
    nbytes = sum(pq.path(r).stat().st_size for r in manifest)
    print(f"profile {path}\nsite {prof.target_url}  files {len(urls)}  bytes {nbytes / 1e6:.1f} MB  "
          f"cpus {os.cpu_count()}  load {os.getloadavg()[0]:.2f}")
    run_harness(prof, prof.package, 16)                # warm the edge: everyone sees cached objects
    rows: dict[str, list[float]] = {}
    oks: dict[str, bool] = {}
    tools = [(f"harness[w{w}]", (lambda w=w: run_harness(prof, prof.package, w)[::2]))
             for w in (int(x) for x in a.workers.split(","))]
    tools += [("curl -K (1 process)", lambda: run_curl_config(prof, urls, manifest)),
              ("wget -i (1 process)", lambda: run_wget(prof, urls, manifest))]
    if not a.skip_loop:
        tools.append(("curl loop (1 per file)", lambda: run_curl_loop(prof, urls, manifest)))
    for r in range(a.runs):
        for name, fn in tools:                          # interleaved: noise spreads over every tool
            res = fn()
            if res is None:
                continue
            dt, ok = res
            rows.setdefault(name, []).append(dt)
            oks[name] = oks.get(name, True) and ok
    print(f"\n{'tool':26} {'median s':>9} {'min s':>7} {'files/s':>8} {'MB/s':>7}  all digests ok")
    out = {}
    for name, ts in rows.items():
        med = statistics.median(ts)
        out[name] = {"runs_s": [round(t, 3) for t in ts], "median_s": round(med, 3), "ok": oks[name]}
        print(f"{name:26} {med:9.2f} {min(ts):7.2f} {len(urls) / med:8.0f} {nbytes / 1e6 / med:7.1f}  {oks[name]}")
    if a.json:
        Path(a.json).write_text(json.dumps({"files": len(urls), "bytes": nbytes, "results": out}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
