"""Thresholds a difusor cannot quietly lower: every verdict names its threshold and where it came from;
a profile (or its own copy of the institute's convocatoria) that loosens one gets at best WARN."""

from __future__ import annotations

import pytest

from prep_conformance import thresholds as th
from prep_conformance.convocatoria import load_convocatoria
from prep_conformance.probes.ssh import DiskObservation
from prep_conformance.rules import disk
from prep_conformance.verdict import Verdict, result

CONV = load_convocatoria("iem-michoacan-2024")
KEYS = {"name", "value", "unit", "key", "section", "source", "convocatoria_value", "profile_key", "relaxed"}


def _copy(section: str, **values):
    """The institute's convocatoria with ``values`` changed in ``section``, keeping its id (a profile's copy)."""
    return CONV.model_copy(update={section: getattr(CONV, section).model_copy(update=values)})


def _disk(gb: float) -> DiskObservation:
    return DiskObservation("/srv/prep", "df -Pk", int(gb * 10**9), 10**12, "raw")


def test_shape_from_the_convocatoria():
    e = th.threshold(CONV, "sftp_upload_mb_s")
    assert set(e) == KEYS
    assert e == {"name": "sftp_upload_mb_s", "value": 40, "unit": "MB/s", "key": "thresholds.sftp_upload_mb_s",
                 "section": "II.1.d", "source": "convocatoria", "convocatoria_value": 40, "profile_key": None,
                 "relaxed": False}


def test_profile_override_and_direction():
    looser = th.threshold(CONV, "load_p95_ms", value=3000, profile_key="load.p95_ms")
    assert (looser["source"], looser["profile_key"], looser["relaxed"]) == ("perfil", "load.p95_ms", True)
    stricter = th.threshold(CONV, "load_p95_ms", value=500, profile_key="load.p95_ms")
    assert stricter["source"] == "perfil" and not stricter["relaxed"]
    same = th.threshold(CONV, "load_p95_ms", value=1000, profile_key="load.p95_ms")
    assert same["source"] == "convocatoria" and same["profile_key"] is None
    assert th.is_looser("tls_min_version", "1.0", "1.2") and not th.is_looser("tls_min_version", "1.3", "1.2")
    assert th.is_looser("cache_control", "no-cache", "no-cache, no-store, must-revalidate")
    assert not th.is_looser("ddos_burst_requests", 10, 200)          # how it runs, not what passes


def test_disk_rule_names_its_threshold_and_passes_cleanly():
    r = disk.evaluate(_disk(25), CONV)
    assert r.verdict is Verdict.PASS and r.evidence["thresholds"] == [th.threshold(CONV, "disk_free_gb")]


def test_profile_copy_of_the_convocatoria_lowering_disk_is_at_best_warn():
    low = _copy("thresholds", disk_free_gb=5)
    r = disk.evaluate(_disk(8), low)
    assert r.verdict is Verdict.WARN
    assert "cumple con umbrales relajados por el perfil: disco libre 5 GB (convocatoria: 20 GB; convocatoria)" in r.summary
    assert "met with thresholds relaxed by the profile: free disk 5 GB (convocatoria: 20 GB" in r.summary_en
    e = r.evidence["thresholds"][0]
    assert e["source"] == "perfil" and e["relaxed"] and e["convocatoria_value"] == 20 and e["value"] == 5
    # a measured failure stays a FAIL (and says the threshold was relaxed)
    f = disk.evaluate(_disk(1), low)
    assert f.verdict is Verdict.FAIL and "umbrales relajados por el perfil" in f.summary


def test_another_institutes_convocatoria_is_its_own_reference():
    other = CONV.model_copy(update={"id": "ople-ficticio-2027",
                                    "thresholds": CONV.thresholds.model_copy(update={"disk_free_gb": 5})})
    r = disk.evaluate(_disk(8), other)
    assert r.verdict is Verdict.PASS and r.evidence["thresholds"][0]["source"] == "convocatoria"


@pytest.mark.parametrize("section,values,name", [
    ("purge", {"fresh_within_s": 600}, "fresh_within_s"), ("freshness", {"max_lag_min": 60}, "max_lag_min"),
    ("freshness", {"max_lag_cortes": 2}, "max_lag_cortes"), ("tls", {"min_version": "1.0"}, "tls_min_version"),
    ("tls", {"expiry_warn_days": 1}, "tls_expiry_warn_days"), ("thresholds", {"sftp_upload_mb_s": 4}, "sftp_upload_mb_s"),
    ("thresholds", {"availability": 0.9}, "availability"),
])
def test_every_loosened_criterion_is_flagged(section, values, name):
    e = th.threshold(_copy(section, **values), name)
    assert e["relaxed"] and e["source"] == "perfil" and e["profile_key"] == "convocatoria"


def test_apply_keeps_non_pass_verdicts_and_merges():
    entries = [th.threshold(CONV, "load_users", value=10, profile_key="load.users")]
    for v in (Verdict.SKIP, Verdict.MANUAL):
        r = th.apply(result("II.2.a", "x", v, "a", "b"), entries)
        assert r.verdict is v and r.summary == "a" and r.evidence["thresholds"] == entries
    r = th.apply(result("II.2.a", "x", Verdict.ERROR, "Sin datos.", "No data."), entries)
    assert r.verdict is Verdict.ERROR and "carga 10 usuarios (convocatoria: 200 usuarios; load.users)" in r.summary
    twice = th.apply(th.apply(result("II.2.a", "x", Verdict.PASS, "a", "b"), entries), entries)
    assert len(twice.evidence["thresholds"]) == 1


def test_purge_bound_loosened_by_the_profiles_copy_is_warn_on_ii2b_only():
    from prep_conformance.probes.cdn_drill import DrillObservation, Poll, RestoreObservation
    from prep_conformance.probes.cdn import PurgeObservation
    from prep_conformance.rules import cdn
    slow = _copy("purge", fresh_within_s=600)
    obs = DrillObservation(
        site_url="https://prep.example/", old_secuencia=3, new_secuencia=4, changed=("json/main.json",),
        upload_dir="/srv/prep", uploaded_bytes=1000, upload_s=0.1,
        purge=PurgeObservation("PURGE", ("http://127.0.0.1/",), True, (200,), at=1.0),
        polls=(Poll(-0.01, "edge", 200, 3), Poll(300, "edge", 200, 4)), fresh_after_s=300,
        origin_fresh_after_s=0.1, origin_checked=True, bound_s=600,
        restore=RestoreObservation(True, files_restored=5, files_removed=1, waited_s=0.01))
    by = {r.check: r for r in cdn.drill(obs, slow)}
    assert by["corte_drill"].verdict is Verdict.WARN
    assert "plazo de purga 600 s (convocatoria: 60 s; convocatoria)" in by["corte_drill"].summary
    assert by["corte_drill_publication"].verdict is Verdict.PASS
    assert "thresholds" not in by["corte_drill_publication"].evidence
    institute = {r.check: r for r in cdn.drill(obs, CONV)}
    assert institute["corte_drill"].verdict is Verdict.FAIL                  # 300 s > the institute's 60 s


def test_entries_are_json_ready():
    import json
    moved = _copy("publication", end=CONV.publication.end.replace(year=2030))
    e = th.threshold(moved, "publication_end")
    assert json.loads(json.dumps(e))["value"].startswith("2030-06-03T20:00:00")
    assert e["source"] == "perfil" and not e["relaxed"]          # recorded, never a "relaxation"
    assert th.threshold(_copy("publication", hold_after_close_h=1), "hold_after_close_h")["relaxed"]


def test_pinned_reference_wins_over_a_profiles_own_id():
    mine = CONV.model_copy(update={"id": "mi-propia-convocatoria",
                                   "thresholds": CONV.thresholds.model_copy(update={"disk_free_gb": 5})})
    assert not th.threshold(mine, "disk_free_gb")["relaxed"]          # unpinned: its own reference
    th.pin_reference(CONV)
    try:
        e = th.threshold(mine, "disk_free_gb")
        assert e["relaxed"] and e["convocatoria_value"] == 20
    finally:
        th.pin_reference(None)
