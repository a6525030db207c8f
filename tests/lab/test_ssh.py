"""SSH/SFTP checks (II.1.a, II.1.c, II.1.d) against real sshd processes: every scenario gets the verdicts
it must, through the real plugin; probes never stay behind, even after Ctrl-C/SIGTERM.

Uses its own standalone ``SshdLab`` (state in /var/lib/prep-lab-ssh-test), so it runs without nginx/Varnish.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from prep_conformance.lab.scenarios.ssh import SCENARIOS, ssh_section
from prep_conformance.lab.sshd import LAB_PASSPHRASE, LAB_PASSWORD, PASSPHRASE_ENV, PASSWORD_ENV, SshdLab
from prep_conformance.probes import ssh as ssh_probe
from prep_conformance.profile import Ssh
from prep_conformance.trust import TRUSTED

ROOT = Path(__file__).resolve().parents[2]
SSH_REQS = ("II.1.a", "II.1.c", "II.1.d")

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def sshlab():
    if os.geteuid() != 0 or not Path("/usr/sbin/sshd").exists() or not shutil.which("sftp"):
        pytest.skip("needs root, sshd and sftp")
    lab = SshdLab("/var/lib/prep-lab-ssh-test")
    lab.start()
    yield lab
    lab.stop()
    st = lab.status()
    assert not any(st["processes"].values())


def _profile(tmp: Path, sid: str, section: dict) -> Path:
    doc = {"id": sid, "sites": {"test": f"https://{sid}.lab.prep.example/"}, "ssh": section}
    p = tmp / f"{sid}.yaml"
    p.write_text(yaml.safe_dump(doc))
    return p


def _run_checks(tmp: Path, profiles: list[Path], env_extra: dict | None = None) -> dict:
    out = tmp / "out"
    env = {**os.environ, **(env_extra or {})}
    cp = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                         "checks/test_platform.py", "checks/test_disk.py", "checks/test_transfer.py",
                         *[a for p in profiles for a in ("--prep-profile", str(p))], "--prep-out", str(out),
                         "--prep-no-html"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert (out / "results.json").exists(), cp.stdout[-3000:] + cp.stderr[-3000:]
    doc = json.loads((out / "results.json").read_text())
    return {d["id"]: d for d in doc["difusores"]}


def test_every_ssh_scenario_gets_its_verdicts(sshlab, tmp_path):
    ids = [sc.id for sc in SCENARIOS] + ["ssh-passphrase-key", "ssh-password"]
    profiles = [_profile(tmp_path, sid, ssh_section(sshlab, sid)) for sid in ids]
    t0 = time.monotonic()
    got = _run_checks(tmp_path, profiles, {PASSPHRASE_ENV: LAB_PASSPHRASE, PASSWORD_ENV: LAB_PASSWORD})
    took = time.monotonic() - t0
    expect = {sc.id: dict(sc.expect) for sc in SCENARIOS} | {"ssh-passphrase-key": {}, "ssh-password": {}}
    problems = []
    for sid in ids:
        reqs = got[sid]["requirements"]
        for rid in SSH_REQS:
            want = expect[sid].get(rid, "PASS")
            if reqs[rid] != want:
                checks = [c for c in got[sid]["checks"] if c["requirement"] == rid]
                problems.append(f"{sid} {rid}: {reqs[rid]} != {want}: {[c['summary_en'] for c in checks]}")
    assert not problems, "\n".join(problems)
    assert took < 120, f"SSH scenarios took {took:.0f} s"
    # evidence a reviewer needs
    up = next(c for c in got["ssh-shaped-20"]["checks"] if c["requirement"] == "II.1.d")["evidence"]
    assert 15 < up["median_mb_s"] < 21 and up["engine"] == "openssh" and len(up["rounds"]) == 3
    assert up["cipher"] and up["cleanup"]["verified"]
    up60 = next(c for c in got["ssh-shaped-60"]["checks"] if c["requirement"] == "II.1.d")["evidence"]
    assert 45 < up60["median_mb_s"] < 61
    pp = next(c for c in got["ssh-passphrase-key"]["checks"] if c["requirement"] == "II.1.d")["evidence"]
    assert pp["engine"] == "paramiko" and pp["fallback"]
    sftp_only = next(c for c in got["ssh-sftp-only"]["checks"] if c["requirement"] == "II.1.c")["evidence"]
    assert sftp_only["method"] == "statvfs@openssh.com" and sftp_only["raw"]["f_bavail"] > 0
    os_ev = next(c for c in got["ssh-sftp-only"]["checks"] if c["requirement"] == "II.1.a")["evidence"]
    assert os_ev["method"] == "banner"
    hk = next(c for c in got["ssh-wrong-host-key"]["checks"] if c["requirement"] == "II.1.a")
    assert hk["evidence"]["presented_key"]["fingerprint"] != hk["evidence"]["expected_keys"][0]["fingerprint"]
    pw = next(c for c in got["ssh-password"]["checks"] if c["requirement"] == "II.1.d")["evidence"]
    assert pw["engine"] == "paramiko" and "password" in pw["fallback"]
    # no passphrase or password in any output
    text = (tmp_path / "out" / "results.json").read_text()
    assert LAB_PASSPHRASE not in text and LAB_PASSWORD not in text
    # and nothing left in any upload dir
    for d in (f"{sshlab.big_dir}/prep", f"{sshlab.small_dir}/prep", f"{sshlab.chroot}/upload",
              f"{sshlab.big_dir}/prep-password"):
        assert not [n for n in os.listdir(d)], d


def test_changed_host_key_never_passes_and_sends_no_credential(sshlab):
    cfg = Ssh(**{**ssh_section(sshlab, "ssh-compliant"), "known_hosts": sshlab.p("known_hosts_wrong")})
    log = Path(sshlab.p("sshd_loop.log"))
    before = log.read_text()
    with pytest.raises(ssh_probe.CheckError) as exc:
        ssh_probe.connect(cfg)
    assert exc.value.evidence["host_key_status"] == "changed"
    time.sleep(0.3)
    after = log.read_text()[len(before):]
    assert "Accepted" not in after and "Failed" not in after and "authenticating user" not in after, after


def test_wrong_password_is_error_and_not_echoed(sshlab, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "not the password")
    with pytest.raises(ssh_probe.CheckError) as exc:
        ssh_probe.connect(Ssh(**ssh_section(sshlab, "ssh-password")), who=TRUSTED)
    assert "refused" in exc.value.summary_en and "not the password" not in str(exc.value.evidence)
    monkeypatch.delenv(PASSWORD_ENV)
    with pytest.raises(ssh_probe.CheckError) as exc:
        ssh_probe.connect(Ssh(**ssh_section(sshlab, "ssh-password")), who=TRUSTED)
    assert PASSWORD_ENV in exc.value.summary_en


def test_unknown_host_key_is_error_unless_opted_in(sshlab, tmp_path):
    sec = ssh_section(sshlab, "ssh-compliant")
    empty = tmp_path / "kh_empty"
    empty.write_text("")
    with pytest.raises(ssh_probe.CheckError) as exc:
        ssh_probe.connect(Ssh(**{**sec, "known_hosts": str(empty)}))
    assert exc.value.evidence["host_key_status"] == "unknown"
    new = tmp_path / "kh_new"
    s = ssh_probe.connect(Ssh(**{**sec, "known_hosts": str(new), "accept_new_host_key": True}))
    try:
        assert s.info.host_key_status == "recorded"
        assert s.info.host_key_fingerprint in [
            ssh_probe.fingerprint(k) for k in __import__("paramiko").HostKeys(str(new)).lookup(
                f"[127.0.0.1]:{sshlab.port}").values()]
    finally:
        s.close()
    s2 = ssh_probe.connect(Ssh(**{**sec, "known_hosts": str(new)}))   # now known
    assert s2.info.host_key_status == "known"
    s2.close()


CHILD = """
import sys, json
from prep_conformance.profile import Ssh
from prep_conformance.probes import ssh
from prep_conformance.probes import transfer as sftp_upload
cfg = Ssh(**json.loads(sys.argv[1]))
s = ssh.connect(cfg)
print("UPLOADING", flush=True)
sftp_upload.measure(s)
print("DONE", flush=True)
"""


@pytest.mark.parametrize("sig,engine", [(signal.SIGINT, "openssh"), (signal.SIGTERM, "openssh"),
                                        (signal.SIGINT, "paramiko")])
def test_interrupted_upload_leaves_nothing(sshlab, sig, engine):
    sec = {**ssh_section(sshlab, "ssh-shaped-20"), "probe_mb": 200, "rounds": 2, "upload_engine": engine}
    scratch = sec["scratch_dir"]
    p = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(sec)], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "UPLOADING"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:       # wait until a probe is being written
        if os.path.isdir(scratch) and any(n.startswith("prep-probe-") for n in os.listdir(scratch)):
            break
        time.sleep(0.1)
    else:
        p.kill()
        pytest.fail("no probe appeared")
    time.sleep(1.0)
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    assert "DONE" not in out
    assert not os.path.exists(scratch), (os.listdir(scratch), err[-2000:])


def test_disk_full_during_probe_is_reported_as_such(sshlab, monkeypatch):
    """A server whose free space we could not read beforehand fills up mid-probe: ERROR 'disk full', no leftovers."""
    from prep_conformance.convocatoria import load_convocatoria
    from prep_conformance.probes import transfer as sftp_upload
    from prep_conformance.rules import transfer
    tiny = sshlab.p("tiny", "prep")
    real = sftp_upload._free_bytes
    for engine in ("openssh", "paramiko"):
        cfg = Ssh(**{**ssh_section(sshlab, "ssh-compliant"), "upload_dir": tiny, "scratch_dir": None,
                     "probe_mb": 40, "rounds": 1, "upload_engine": engine})
        calls = []

        def first_unknown(session, path):
            calls.append(path)
            return None if len(calls) == 1 else real(session, path)
        monkeypatch.setattr(sftp_upload, "_free_bytes", first_unknown)
        s = ssh_probe.connect(cfg)
        try:
            obs = sftp_upload.measure(s)
        finally:
            s.close()
        r = transfer.evaluate(obs, load_convocatoria("iem-michoacan-2024"))
        assert obs.disk_full, (engine, obs)
        assert r.verdict == "ERROR" and "Disk full" in r.summary_en, r.summary_en
        assert obs.cleanup["verified"] and not os.listdir(tiny)


def test_ctrl_c_on_a_pytest_run_leaves_nothing(sshlab, tmp_path):
    """Ctrl-C in a terminal: SIGINT to the whole foreground process group of a running check."""
    sec = {**ssh_section(sshlab, "ssh-shaped-20"), "probe_mb": 200, "rounds": 2}
    prof = _profile(tmp_path, "ctrl-c", sec)
    scratch = sec["scratch_dir"]
    p = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "checks/test_transfer.py",
                          "--prep-profile", str(prof), "--prep-out", str(tmp_path / "out"), "--prep-no-html"],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if os.path.isdir(scratch) and any(n.startswith("prep-probe-") for n in os.listdir(scratch)):
            break
        time.sleep(0.1)
    else:
        os.killpg(p.pid, signal.SIGKILL)
        pytest.fail("no probe appeared")
    time.sleep(1.0)
    os.killpg(p.pid, signal.SIGINT)
    out, _ = p.communicate(timeout=60)
    assert not os.path.exists(scratch), (os.listdir(scratch), out[-2000:])


def test_two_runs_into_one_scratch_dir_do_not_disturb_each_other(sshlab):
    """Two reviewers measuring the same server at once: both complete, both clean up, nothing left."""
    import threading
    from prep_conformance.probes import transfer as sftp_upload
    sec = {**ssh_section(sshlab, "ssh-compliant"), "probe_mb": 48, "rounds": 2}
    sec.pop("scratch_dir")
    cfg = Ssh(**sec)
    out = {}

    def one(k):
        s = ssh_probe.connect(cfg)
        try:
            out[k] = sftp_upload.measure(s)
        finally:
            s.close()
    ts = [threading.Thread(target=one, args=(k,)) for k in (1, 2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    for k in (1, 2):
        o = out[k]
        assert all(r.ok for r in o.rounds) and len(o.rounds) == 2, o
        assert o.cleanup["verified"], o.cleanup
    assert not os.path.exists(f"{sec['upload_dir']}/.conformance")


@pytest.mark.parametrize("engine", ["openssh", "paramiko"])
def test_slow_link_round_stopped_early_is_fail(sshlab, engine):
    """~20 MB/s link, stop below 30 MB/s: the 60 MB round (~3 s) is stopped after 2 s and judged FAIL."""
    from prep_conformance.convocatoria import load_convocatoria
    from prep_conformance.probes import transfer as sftp_upload
    from prep_conformance.rules import transfer
    cfg = Ssh(**{**ssh_section(sshlab, "ssh-shaped-20"), "probe_mb": 60, "rounds": 3, "upload_engine": engine})
    s = ssh_probe.connect(cfg)
    t0 = time.monotonic()
    try:
        obs = sftp_upload.measure(s, stop_below_mb_s=30)
    finally:
        s.close()
    assert time.monotonic() - t0 < 8
    assert obs.stopped_early and obs.stopped_early["round"] == 1 and obs.stopped_early["below_mb_s"] <= 30
    r = transfer.evaluate(obs, load_convocatoria("iem-michoacan-2024"))
    assert r.verdict == "FAIL", r.summary_en
    assert obs.cleanup["verified"] and not os.path.exists(cfg.scratch_dir)


def test_unreachable_server_is_found_once_and_blocks_the_rest(tmp_path):
    """No lab needed: a closed loopback port. II.1.a ERRORs with the reason, II.1.c/d are blocked at once."""
    import socket
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        port = so.getsockname()[1]
    kh = tmp_path / "kh"
    kh.write_text("")
    key = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    prof = _profile(tmp_path, "unreachable", {"host": "127.0.0.1", "port": port, "username": "nobody",
                                              "key_file": str(key), "known_hosts": str(kh), "upload_dir": "/srv",
                                              "timeout_s": 3})
    t0 = time.monotonic()
    got = _run_checks(tmp_path, [prof])["unreachable"]
    assert time.monotonic() - t0 < 30
    assert all(got["requirements"][r] == "ERROR" for r in SSH_REQS)
    blocked = [c for c in got["checks"] if c["evidence"].get("blocked_by") == "ssh"]
    assert len(blocked) == 2 and all(c["duration_s"] < 1 for c in blocked)


def test_stale_probe_folder_of_a_killed_run_is_removed_later(sshlab):
    """SIGKILL leaves no chance to clean up: the next run removes probe folders untouched for STALE_S."""
    from prep_conformance.probes import transfer as sftp_upload
    cfg = Ssh(**{**ssh_section(sshlab, "ssh-compliant"), "probe_mb": 8, "rounds": 1})
    stale = os.path.join(cfg.scratch_dir, "prep-probe-999-deadbeef")
    fresh = os.path.join(cfg.scratch_dir, "prep-probe-998-feedface")      # another run, in flight
    for d in (stale, fresh):
        os.makedirs(d)
        Path(d, "prep-probe-1").write_bytes(b"x" * 1000)
        for p in (cfg.scratch_dir, d, os.path.join(d, "prep-probe-1")):   # as the lab user made them
            shutil.chown(p, sshlab.shell_user, sshlab.shell_user)
    old = time.time() - sftp_upload.STALE_S - 60
    os.utime(stale, (old, old))
    s = ssh_probe.connect(cfg)
    try:
        obs = sftp_upload.measure(s)
    finally:
        s.close()
    assert obs.cleanup["verified"]
    assert not os.path.exists(stale) and os.path.exists(fresh)
    assert os.path.isdir(cfg.scratch_dir)          # a folder the profile names and we did not make stays
    shutil.rmtree(cfg.scratch_dir)
