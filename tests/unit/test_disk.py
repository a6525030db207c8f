"""II.1.c rule: f_bavail bytes against disk_free_gb × 10^9."""

from prep_conformance.convocatoria import load_convocatoria
from prep_conformance.probes.ssh import DiskObservation
from prep_conformance.rules import disk

CONV = load_convocatoria("iem-michoacan-2024")


def test_exactly_20_gb_passes_and_just_below_fails():
    assert disk.evaluate(DiskObservation("/srv/prep", "statvfs@openssh.com", 20 * 10**9), CONV).verdict == "PASS"
    r = disk.evaluate(DiskObservation("/srv/prep", "statvfs@openssh.com", 20 * 10**9 - 1), CONV)
    assert r.verdict == "FAIL"


def test_gib_is_not_gb():
    # 18.7 GiB = 20.08 GB: passes (GB = 10^9 as the convocatoria writes it); evidence shows both
    r = disk.evaluate(DiskObservation("/d", "df -Pk", int(18.7 * 2**30)), CONV)
    assert r.verdict == "PASS" and r.evidence["avail_gib"] == 18.7 and r.evidence["avail_gb"] > 20


def test_missing_dir_and_unmeasurable_are_error():
    assert disk.evaluate(DiskObservation("/x", "df -Pk", None, error="No such file", missing=True),
                         CONV).verdict == "ERROR"
    assert disk.evaluate(DiskObservation("/x", "statvfs@openssh.com", None, error="unsupported"),
                         CONV).verdict == "ERROR"


def test_evidence_has_raw_numbers():
    raw = {"f_frsize": 4096, "f_bavail": 1000}
    r = disk.evaluate(DiskObservation("/x", "statvfs@openssh.com", 4096000, raw=raw), CONV)
    assert r.evidence["raw"] == raw and r.evidence["threshold_bytes"] == 20 * 10**9
