"""Benchmark: ``prep-conformance watch`` with N difusores polled every S seconds on this machine.

    sudo .venv/bin/python bench/watch.py [--difusores 100] [--interval 10] [--duration 180] [--every 30] [--json out.json]

An election night in the lab (``prep_conformance.lab.night``; one nginx serving every difusor, the
institute publishing a corte every ``--every`` seconds, tiny paquete) and one watcher process with the
board and the metrics on. Three difusores change during the run: one goes down, one stops following
(stale), one serves an altered file. Measured:

- CPU of the watcher (user + system seconds / wall seconds, from /proc, after a warm-up) and its peak RSS;
- polls per second sustained (samples written to the db in the measured span);
- lag from a change to the board: from the moment the lab makes the change to the first time the board's
  page (``GET /``) shows the row's new state; and to the first sample that saw it (``observed``). A
  browser showing the page adds up to its refresh period (``min(interval, 10)`` s) on top.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prep_conformance.lab.night import ElectionNight, NightDifusor  # noqa: E402


def cpu_s(pid: int) -> float:
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--difusores", type=int, default=100)
    ap.add_argument("--interval", type=float, default=10.0)
    ap.add_argument("--duration", type=float, default=180.0)
    ap.add_argument("--every", type=float, default=30.0, help="seconds between cortes")
    ap.add_argument("--warmup", type=float, default=20.0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    base = int(os.environ.get("PREP_LAB_PORT_BASE", "20000")) + 600   # above the lab's own ports
    state = Path(os.environ.get("PREP_LAB_DIR", "/var/lib/prep-conformance/lab")) / "night-bench"
    n, iv = args.difusores, args.interval
    change_at = args.warmup + 30
    plan = [NightDifusor(f"difusor-{i:03d}", delay_s=0.2 + (i % 10) * 0.05) for i in range(n - 3)]
    plan += [NightDifusor("cae", "down", start_s=change_at, end_s=change_at + 60),
             NightDifusor("rezaga", "lag", start_s=change_at, end_s=change_at + 90),
             NightDifusor("altera", "altered", start_s=change_at, end_s=change_at + 60)]
    night = ElectionNight(state, base, plan, every_s=args.every, window_s=args.duration + 600,
                          tolerance_s=args.every * 1.5)
    night.start()
    tmp = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    db = tmp / "bench.db"
    board = base + 200                       # 101 difusor ports below
    argv = [sys.executable, "-m", "prep_conformance.cli", "watch", *night.watch_args(), "--db", str(db),
            "--interval", str(iv), "--duration", str(args.duration), "--board-port", str(board),
            "--metrics-port", str(board + 1), "-q"]
    t_start = time.time()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: dict[str, dict[str, float]] = {d: {} for d in ("cae", "rezaga", "altera")}
    peak = [0.0]
    stop = threading.Event()

    def watch_board():
        rx = re.compile(r'id="row-([a-z0-9-]+)" data-state="([a-z_]+)"')
        while not stop.is_set():
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{board}/", timeout=5).read().decode()
                st = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{board}/state.json", timeout=5).read())
                now = time.time()
                states = dict(rx.findall(page))
                for row in st["rows"]:
                    if row["id"] in seen:
                        if row["observed"] not in (None, "ok") and "observed" not in seen[row["id"]]:
                            seen[row["id"]]["observed"] = row["observed_at"]
                        if states.get(row["id"]) not in (None, "ok", "pending") and "board" not in seen[row["id"]]:
                            seen[row["id"]]["board"] = now
                            seen[row["id"]]["state"] = states[row["id"]]
                peak[0] = max(peak[0], rss_mb(proc.pid))
            except Exception:   # noqa: BLE001 - the board is not up yet
                pass
            stop.wait(0.25)

    th = threading.Thread(target=watch_board, daemon=True)
    th.start()
    time.sleep(args.warmup)
    if proc.poll() is not None:
        stop.set()
        night.stop()
        print(proc.communicate()[1], file=sys.stderr)
        return 2
    c0, w0 = cpu_s(proc.pid), time.time()
    c1, w1 = c0, w0
    while proc.poll() is None and time.time() < t_start + args.duration - 2:
        c1, w1 = cpu_s(proc.pid), time.time()
        time.sleep(1)
    proc.communicate(timeout=60)
    stop.set()
    th.join(5)
    night.stop()
    con = sqlite3.connect(db)
    polls = con.execute("SELECT COUNT(*) FROM samples WHERE t BETWEEN ? AND ?", (w0, w1)).fetchone()[0]
    incidents = con.execute("SELECT difusor, kind, COUNT(*) FROM incidents GROUP BY difusor, kind").fetchall()
    truth = {"cae": night.events("cae", "down")[0]["t"],
             "rezaga": night.truth["published"][min(k for k, t in night.truth["published"].items()
                                                    if t > night.events("rezaga", "lag_start")[0]["t"])]
             + night.tolerance_s,
             "altera": night.first_serving("altera", True)[0]["t"]}
    res = {"difusores": n, "interval_s": iv, "duration_s": args.duration, "measured_s": round(w1 - w0, 1),
           "cpu_percent_of_one_core": round(100 * (c1 - c0) / (w1 - w0), 1), "peak_rss_mb": round(peak[0], 1),
           "polls_per_s": round(polls / (w1 - w0), 2), "expected_polls_per_s": round(n / iv, 2),
           "load_average": os.getloadavg(),
           "lag_to_first_bad_sample_s": {d: round(seen[d].get("observed", float("nan")) - truth[d], 1) for d in truth},
           "lag_to_board_s": {d: round(seen[d].get("board", float("nan")) - truth[d], 1) for d in truth},
           "board_state": {d: seen[d].get("state") for d in truth},
           "incidents": [list(r) for r in incidents]}
    print(json.dumps(res, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
