"""II.1.d rule: median MB/s vs sftp_upload_mb_s; our own limit is never a FAIL."""

from prep_conformance.convocatoria import load_convocatoria
from prep_conformance.probes.transfer import UploadObservation, UploadRound
from prep_conformance.rules import transfer

CONV = load_convocatoria("iem-michoacan-2024")
OK = {"removed": [], "verified": True, "leftover": []}


def obs(*rates, share=0.1, ceiling=300.0, **kw):
    rounds = tuple(UploadRound(i + 1, 64_000_000, 64 / r, r, True) for i, r in enumerate(rates))
    base = dict(engine="openssh", cipher="aes128-gcm@openssh.com", probe_bytes=64_000_000, rounds=rounds,
                median_mb_s=sorted(rates)[len(rates) // 2] if rates else None, upload_dir="/u",
                scratch_dir="/u/.conformance", client_cpu_share=share, client_ceiling_mb_s=ceiling, cleanup=OK)
    base.update(kw)
    return UploadObservation(**base)


def test_fast_passes_slow_fails():
    assert transfer.evaluate(obs(57.5, 57.6, 57.4), CONV).verdict == "PASS"
    r = transfer.evaluate(obs(19.1, 19.2, 19.1), CONV)
    assert r.verdict == "FAIL" and r.evidence["median_mb_s"] == 19.1 and r.evidence["threshold_mb_s"] == 40


def test_client_saturated_below_threshold_is_error_not_fail():
    r = transfer.evaluate(obs(30, 31, 29, share=0.97), CONV)
    assert r.verdict == "ERROR" and "client" in r.summary_en


def test_near_own_ceiling_below_threshold_is_error():
    assert transfer.evaluate(obs(30, 30, 30, ceiling=33), CONV).verdict == "ERROR"


def test_client_limited_but_above_threshold_passes_with_note():
    r = transfer.evaluate(obs(200, 210, 190, share=0.95), CONV)
    assert r.verdict == "PASS" and r.notes


def test_leftover_probe_is_error():
    r = transfer.evaluate(obs(100, cleanup={"verified": False, "leftover": ["/u/.conformance/p"]}), CONV)
    assert r.verdict == "ERROR" and "/u/.conformance/p" in r.summary_en


def test_disk_full_reported_as_such():
    bad = (UploadRound(1, 64_000_000, None, None, False, "Couldn't write to remote file: Failure"),)
    r = transfer.evaluate(obs(rounds=bad, median_mb_s=None, disk_full=True), CONV)
    assert r.verdict == "ERROR" and "Disk full" in r.summary_en
    r = transfer.evaluate(obs(rounds=(), median_mb_s=None, setup="no_space", setup_detail="10 < 64"), CONV)
    assert r.verdict == "ERROR" and "Disk full" in r.summary_en


def test_missing_or_readonly_upload_dir_fails_with_clear_message():
    r = transfer.evaluate(obs(rounds=(), median_mb_s=None, setup="missing"), CONV)
    assert r.verdict == "FAIL" and "does not exist" in r.summary_en
    r = transfer.evaluate(obs(rounds=(), median_mb_s=None, setup="not_writable", setup_detail="Permission denied"),
                          CONV)
    assert r.verdict == "FAIL" and "write permission" in r.summary_en


def test_failed_round_is_error():
    rounds = (UploadRound(1, 1, 1.0, 60.0, True), UploadRound(2, 1, None, None, False, "Connection reset"))
    assert transfer.evaluate(obs(rounds=rounds, median_mb_s=60.0), CONV).verdict == "ERROR"


def test_threshold_from_convocatoria():
    conv = CONV.model_copy(update={"thresholds": CONV.thresholds.model_copy(update={"sftp_upload_mb_s": 100})})
    assert transfer.evaluate(obs(57.5), conv).verdict == "FAIL"


def test_round_stopped_by_budget_is_fail_with_bound():
    bad = (UploadRound(1, 256_000_000, None, None, False, "stopped: round still running after 12.8 s"),)
    o = obs(rounds=bad, median_mb_s=None, stopped_early={"round": 1, "after_s": 12.8, "below_mb_s": 20.0},
            round_budget_s=12.8)
    r = transfer.evaluate(o, CONV)
    assert r.verdict == "FAIL" and "below 20.0 MB/s" in r.summary_en
    o = obs(rounds=bad, median_mb_s=None, share=0.95, stopped_early={"round": 1, "after_s": 12.8, "below_mb_s": 20.0})
    assert transfer.evaluate(o, CONV).verdict == "ERROR"


def test_stop_rate_derives_from_threshold():
    assert transfer.stop_below_mb_s(CONV) == CONV.thresholds.sftp_upload_mb_s / 4
