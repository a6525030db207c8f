#!/usr/bin/env python3
"""II.1.d benchmark: the harness's upload figure vs OpenSSH ``sftp -b`` end to end, same link, same size.

Starts (or reuses) a standalone lab sshd (loopback, and namespaces shaped to ~60 and ~20 MB/s), then for
each link runs ``--runs`` times: (a) OpenSSH ``sftp -b`` putting one probe, timed end to end (login
included: the issue's reference), (b) the harness with its OpenSSH engine, (c) the harness with its tuned
paramiko engine (the fallback for passphrase keys and passwords). Prints medians, ratios to (a) and
client CPU seconds. Needs root. Example:

    .venv/bin/python bench/upload_ratio.py --mb 256 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prep_conformance.lab.scenarios.ssh import ssh_section  # noqa: E402
from prep_conformance.lab.sshd import SshdLab  # noqa: E402
from prep_conformance.probes import transfer as sftp_upload, ssh  # noqa: E402
from prep_conformance.profile import Ssh  # noqa: E402

LINKS = {"loopback": "ssh-compliant", "shaped-60": "ssh-shaped-60", "shaped-20": "ssh-shaped-20"}


def openssh_reference(cfg: Ssh, nbytes: int) -> tuple[float, float]:
    """(MB/s end to end, client CPU s) of one plain ``sftp -b`` put, login included."""
    local = sftp_upload._local_probe(nbytes)
    remote = f"{cfg.upload_dir}/bench-ref-{os.getpid()}"
    fd, batch = tempfile.mkstemp(suffix=".batch")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(f"put {local} {remote}\n")
        argv = sftp_upload._openssh_argv(cfg, batch)
        argv.remove("-v")
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        secs = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(p.stderr.read().decode()[-500:])
        return nbytes / secs / 1e6, ru.ru_utime + ru.ru_stime
    finally:
        for f in (local, batch):
            os.unlink(f)
        subprocess.run(argv[:-1] + [argv[-1]], input=f"-rm {remote}\n".encode(), capture_output=True)


def harness(cfg: Ssh, engine: str) -> tuple[float, float, float | None]:
    """(median MB/s the check reports, client CPU s, end-to-end MB/s) of one ``measure`` call."""
    c = cfg.model_copy(update={"upload_engine": engine})
    s = ssh.connect(c)
    try:
        o = sftp_upload.measure(s, c)
    finally:
        s.close()
    if o.median_mb_s is None:
        raise RuntimeError(f"{engine}: {o.setup} {o.setup_detail} {[r.error for r in o.rounds]}")
    return o.median_mb_s, o.client_cpu_s or 0.0, o.end_to_end_mb_s


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=256, help="probe size in MB (10^6 bytes), default 256")
    ap.add_argument("--mb-slow", type=float, default=128, help="probe size on the ~20 MB/s link (default 128)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--links", default=",".join(LINKS), help="comma list of " + ", ".join(LINKS))
    ap.add_argument("--state", default="/var/lib/prep-lab-ssh-bench")
    ap.add_argument("--keep", action="store_true", help="leave the bench sshd up")
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()
    lab = SshdLab(a.state)
    if not lab.status()["running"]:
        lab.start()
    rows = []
    try:
        for link in a.links.split(","):
            mb = a.mb_slow if link == "shaped-20" else a.mb
            base = Ssh(**{**ssh_section(lab, LINKS[link]), "probe_mb": mb, "rounds": 3})
            ref, ours, par = [], [], []
            for _ in range(a.runs):
                ref.append(openssh_reference(base, int(mb * 1e6)))
                ours.append(harness(base, "openssh"))
                par.append(harness(base, "paramiko"))
            r = statistics.median(x[0] for x in ref)
            row = {"link": link, "probe_mb": mb, "runs": a.runs,
                   "openssh_sftp_b_e2e_mb_s": round(r, 1),
                   "openssh_cpu_s_per_put": round(statistics.median(x[1] for x in ref), 2),
                   "harness_openssh_mb_s": round(statistics.median(x[0] for x in ours), 1),
                   "harness_openssh_e2e_mb_s": round(statistics.median(x[2] for x in ours), 1),
                   "harness_openssh_cpu_s_3_rounds": round(statistics.median(x[1] for x in ours), 2),
                   "harness_paramiko_mb_s": round(statistics.median(x[0] for x in par), 1),
                   "harness_paramiko_cpu_s_3_rounds": round(statistics.median(x[1] for x in par), 2)}
            row["ratio_openssh_engine"] = round(row["harness_openssh_mb_s"] / r, 2)
            row["ratio_openssh_engine_e2e"] = round(row["harness_openssh_e2e_mb_s"] / r, 2)
            row["ratio_paramiko_engine"] = round(row["harness_paramiko_mb_s"] / r, 2)
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        if not a.keep:
            lab.stop()
    print(f"\nself-test ceilings (this machine, no network): {sftp_upload._SELFTEST}")
    print(f"\n{'link':10} {'MB':>5} {'sftp -b e2e':>11} {'ours(openssh)':>13} {'ratio':>5} "
          f"{'ours(paramiko)':>14} {'ratio':>5}  cpu s: sftp-b/put, ours 3 rounds openssh/paramiko")
    for r in rows:
        print(f"{r['link']:10} {r['probe_mb']:5g} {r['openssh_sftp_b_e2e_mb_s']:11.1f} "
              f"{r['harness_openssh_mb_s']:13.1f} {r['ratio_openssh_engine']:5.2f} "
              f"{r['harness_paramiko_mb_s']:14.1f} {r['ratio_paramiko_engine']:5.2f}  "
              f"{r['openssh_cpu_s_per_put']}, {r['harness_openssh_cpu_s_3_rounds']}/"
              f"{r['harness_paramiko_cpu_s_3_rounds']}")
    if a.json:
        Path(a.json).write_text(json.dumps({"rows": rows, "selftest": sftp_upload._SELFTEST}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
