"""Memoria against the real lab: the front nginx's own combined log of traffic we send, counted exactly;
the memoria scenarios' II.2.c and II.4 verdicts."""

from __future__ import annotations

import http.client
import json
import secrets
import ssl
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from prep_conformance.memoria.logs import read_logs
from prep_conformance.memoria.stats import compute
from prep_conformance.memoria.synth import TZ

pytestmark = pytest.mark.lab
CLI = [sys.executable, "-m", "prep_conformance.cli"]


def run(profile, out, *only):
    args = [a for rid in only for a in ("--only", rid)]
    p = subprocess.run([*CLI, "run", "--profile", str(profile), "--out", str(out), "--trust-profile", *args],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode in (0, 1), p.stdout + p.stderr
    return json.loads((out / "results.json").read_text())["difusores"][0]


def test_front_log_of_our_own_traffic_counts_exactly(lab, lab_profile, tmp_path):
    prof = lab_profile("memoria-logs")
    doc = yaml.safe_load(prof.read_text())
    url = urlsplit(doc["sites"][doc.get("target", "test")])
    ctx = ssl.create_default_context(cafile=str((prof.parent / doc["http"]["ca_bundle"]).resolve()))
    ctx.check_hostname = False          # the chain is verified; we connect to the pinned loopback address
    marker = secrets.token_hex(4)
    ua = {k: f"Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0 lab-{marker}-{k}"
          for k in "abc"}
    ua["bot"] = f"Mozilla/5.0 (compatible; Googlebot/2.1; lab-{marker})"
    plan = [("a", "/"), ("a", "/json/main.json"), ("a", "/json/main.json"), ("a", "/json/main.json"),
            ("a", "/json/main.json?t=1"), ("b", "/"), ("b", "/no-existe.html"), ("c", "/json/main.json"),
            ("c", "/json/main.json"), ("bot", "/")]
    statuses = []
    for who, path in plan:
        c = http.client.HTTPSConnection("127.0.0.1", url.port, context=ctx, timeout=10)
        c.request("GET", path, headers={"Host": url.hostname, "User-Agent": ua[who]})
        r = c.getresponse()
        r.read()
        statuses.append(r.status)
        c.close()
    assert statuses.count(404) == 1 and statuses.count(200) == 9, statuses
    front_log = lab.state / "logs" / "nginx-memoria-logs-front.combined.log"
    mine = tmp_path / "access.log"
    mine.write_text("".join(line for line in front_log.read_text(encoding="utf-8", errors="replace")
                            .splitlines(keepends=True) if f"lab-{marker}" in line))
    r = compute(read_logs([mine]), TZ)
    assert r["requests"] == {"total": 10, "human": 9, "bots": 1}
    assert (r["page_views"], r["polls"], r["resources"]) == (2, 6, 1)
    assert r["visitors"]["unique_period"] == 3 and r["sessions"]["count"] == 3
    assert [(p["path"], p["views"]) for p in r["top_pages"]] == [("/", 2)]
    assert r["status_codes"] == {"200": 9, "404": 1}
    assert [(b["family"], b["requests"]) for b in r["bots"]["top"]] == [("Googlebot", 1)]


def test_memoria_scenarios(lab_profile, tmp_path):
    ok = run(lab_profile("memoria-logs"), tmp_path / "ok", "II.2.c", "II.4")
    assert ok["requirements"]["II.2.c"] == "PASS"
    ev = next(c for c in ok["checks"] if c["check"] == "access_log_statistics")["evidence"]
    assert (ev["unique_visitors_period"], ev["page_views"], ev["sessions"]) == (5, 9, 6)
    assert ok["requirements"]["II.4"] == "MANUAL"          # three parts; no watch db given to compare
    bad = run(lab_profile("memoria-incomplete"), tmp_path / "bad", "II.2.c", "II.4")
    assert bad["requirements"]["II.2.c"] == "FAIL" and bad["requirements"]["II.4"] == "FAIL"
    c = next(c for c in bad["checks"] if c["check"] == "memoria_tecnica")
    assert c["evidence"]["parts"] == {"a": True, "b": True, "c": False}
