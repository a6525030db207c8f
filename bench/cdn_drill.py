"""Benchmark: the corte drill's time to fresh content against what the lab's Varnish actually needs.

* ``varnish alone``: GET an object until it is a HIT, PURGE it, then GET as fast as possible until a MISS:
  the time from the PURGE's answer to the sending of the first GET answered MISS is what the edge itself
  needs (Varnish purges synchronously: expect ~0);
* ``drill[PURGE|BAN|cloudflare]``: the whole drill on the ``pub-drill`` scenario (SFTP upload of the next
  corte, purge by that method, polls, restore), its ``fresh_after_s`` (from the purge's answer to the start
  of the first poll that got the whole new corte), the upload time and the restore wait.

    .venv/bin/python bench/cdn_drill.py [--scenario pub-drill] [--runs 5] [--json out.json]

The lab must be up with the drill scenario and sshd (``lab up`` of everything, or ``--scenario pub-drill
--scenario ssh-compliant``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prep_conformance import paquete  # noqa: E402
from prep_conformance.convocatoria import load_convocatoria  # noqa: E402
from prep_conformance.probes import cdn_drill as drill_probe  # noqa: E402
from prep_conformance.probes import publication as pub  # noqa: E402
from prep_conformance.probes import cdn as purge_probe  # noqa: E402
from prep_conformance.probes import ssh as ssh_probe  # noqa: E402
from prep_conformance.profile import PurgeConfig, load_profile  # noqa: E402
from prep_conformance.trust import TRUSTED  # noqa: E402
from tests.support.cloudflare_standin import CloudflareStandIn, forward_ban  # noqa: E402


def varnish_alone(prof, runs: int) -> list[float]:
    out = []
    cfg = PurgeConfig(method="PURGE", url=prof.cdn.purge.url)
    url = pub.file_url(prof.target_url, "index.html")
    with pub.session_for(prof, 2) as s:
        for _ in range(runs):
            for _ in range(20):
                r = s.get(url, timeout=5)
                if purge_probe.cache_state(r.headers) == "hit":
                    break
            p = purge_probe.purge(cfg, prof.target_url, ["index.html"], session=s)
            while True:
                sent = time.monotonic()           # timed like the drill: when the request that saw it was sent
                r = s.get(url, timeout=5)
                if purge_probe.cache_state(r.headers) == "miss":
                    out.append(sent - p.at)
                    break
                if time.monotonic() - p.at > 30:
                    out.append(float("inf"))
                    break
    return out


def drills(prof, method: str, runs: int) -> list[dict]:
    conv = load_convocatoria(prof.convocatoria, Path(prof.base_dir))
    host = prof.target_url.split("//", 1)[1].split(":", 1)[0].rstrip("/")
    out = []
    cf = None
    if method == "cloudflare":
        token, zone = "bench-" + os.urandom(4).hex(), "0" * 31 + "2"
        cf = CloudflareStandIn(token, zone, on_purge=forward_ban(prof.cdn.purge.url, host)).start()
        cfg = PurgeConfig(method="cloudflare", zone_id=zone, token_env="UNUSED", api_base=cf.api_base)
    else:
        token = None
        cfg = PurgeConfig(method=method, url=prof.cdn.purge.url)
    sess = ssh_probe.connect(prof.ssh)
    try:
        with pub.session_for(prof, 8) as s:
            t = drill_probe.DrillTarget(prof.target_url, s, sess.sftp(), prof.ssh.upload_dir,
                                        lambda paths: purge_probe.purge(cfg, prof.target_url, paths, session=s,
                                                                        token=token),
                                        conv.purge.fresh_within_s, conv.purge.poll_interval_s, 10.0, prof.http.origin)
            pq = paquete.load_paquete(prof.package)
            for _ in range(runs):
                with pub.site_lock(prof.target_url, exclusive=True):
                    obs = drill_probe.run_drill(t, pq)
                out.append({"fresh_after_s": obs.fresh_after_s, "upload_s": obs.upload_s,
                            "upload_to_purge_s": obs.upload_to_purge_s, "purge_s": obs.purge.elapsed_s,
                            "restore_ok": obs.restore.ok, "restore_wait_s": obs.restore.waited_s,
                            "polls": obs.polls_total})
    finally:
        sess.close()
        if cf:
            cf.stop()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="pub-drill")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    from prep_conformance.lab import Lab
    prof = load_profile(Lab().profile_path(a.scenario), trust=TRUSTED)   # the lab's own profile
    if prof.ssh is None:
        print("the scenario's profile has no ssh: (start the lab with sshd)", file=sys.stderr)
        return 2
    print(f"site {prof.target_url}  runs {a.runs}  load {os.getloadavg()[0]:.2f}")
    res = {"varnish_alone_s": varnish_alone(prof, a.runs)}
    ms = lambda v: f"{v * 1000:.1f} ms"  # noqa: E731
    v = res["varnish_alone_s"]
    print(f"{'varnish alone: PURGE answer -> MISS request':44} median {ms(statistics.median(v))}  max {ms(max(v))}")
    for method in ("PURGE", "BAN", "cloudflare"):
        rows = drills(prof, method, a.runs)
        res[method] = rows
        fresh = [r["fresh_after_s"] for r in rows if r["fresh_after_s"] is not None]
        print(f"drill[{method:10}] fresh after purge: median {ms(statistics.median(fresh)) if fresh else 'never'}"
              f"  max {ms(max(fresh)) if fresh else '-'}  upload {ms(statistics.median(r['upload_s'] for r in rows))}"
              f"  purge {ms(statistics.median(r['purge_s'] for r in rows))}"
              f"  restored {sum(r['restore_ok'] for r in rows)}/{len(rows)}")
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
