"""II.2.b rules on hand-built observations: drill verdicts, purge without drill, presence, cache state."""

from __future__ import annotations

from prep_conformance.convocatoria import load_convocatoria
from prep_conformance.probes.cdn_drill import DrillObservation, Poll, RestoreObservation
from prep_conformance.probes.cdn import PurgeEffect, PurgeObservation, cache_state
from prep_conformance.rules import cdn
from prep_conformance.rules.cdn_detect import detect
from prep_conformance.verdict import Verdict

CONV = load_convocatoria("iem-michoacan-2024")
BOUND = CONV.purge.fresh_within_s
OK_PURGE = PurgeObservation("PURGE", ("http://127.0.0.1/",), True, (200,), at=1.0)
RESTORED = RestoreObservation(True, files_restored=5, files_removed=1, waited_s=0.01)
VARNISH = detect({"X-Varnish": "123 456", "Via": "1.1 varnish (Varnish/7.1)"})
CLOUDFLARE = detect({"CF-RAY": "8a1b2c3d4e5f-QRO", "Server": "cloudflare"})


def _drill(**kw) -> DrillObservation:
    base = dict(site_url="https://prep.example/", old_secuencia=3, new_secuencia=4, changed=("json/main.json",),
                upload_dir="/srv/prep", uploaded_bytes=1000, upload_s=0.1, purge=OK_PURGE,
                polls=(Poll(-0.01, "edge", 200, 3), Poll(0.2, "edge", 200, 4)), fresh_after_s=0.2,
                origin_fresh_after_s=0.1, origin_checked=True, bound_s=BOUND, restore=RESTORED)
    return DrillObservation(**{**base, **kw})


def _by(results, check):
    return next(r for r in results if r.check == check)


def test_drill_fresh_within_bound_passes():
    rs = cdn.drill(_drill(), CONV, VARNISH)
    assert _by(rs, "corte_drill").verdict is Verdict.PASS
    assert _by(rs, "corte_drill_publication").verdict is Verdict.PASS
    assert _by(rs, "corte_drill").evidence["restore"]["ok"] is True


def test_drill_fresh_after_bound_fails():
    r = _by(cdn.drill(_drill(fresh_after_s=BOUND + 5), CONV), "corte_drill")
    assert r.verdict is Verdict.FAIL


def test_drill_never_fresh_fails_with_last_state():
    polls = (Poll(0.1, "edge", 200, 4, old_files=2), Poll(BOUND, "edge", 200, 4, old_files=2))
    r = _by(cdn.drill(_drill(fresh_after_s=None, polls=polls), CONV), "corte_drill")
    assert r.verdict is Verdict.FAIL and "2 old file(s)" in r.summary_en
    assert r.evidence["mixed_polls"] == 2


def test_stale_after_purge_counted():
    polls = (Poll(0.1, "edge", 200, 3), Poll(0.6, "edge", 200, 3), Poll(1.1, "edge", 200, 4))
    r = _by(cdn.drill(_drill(polls=polls, fresh_after_s=1.1), CONV), "corte_drill")
    assert r.evidence["stale_polls_after_purge"] == 2 and r.verdict is Verdict.PASS


def test_mixed_state_before_fresh_is_warn():
    polls = (Poll(0.1, "edge", 200, 4, absent_files=1), Poll(0.6, "edge", 200, 4))
    r = _by(cdn.drill(_drill(polls=polls, fresh_after_s=0.6), CONV), "corte_drill")
    assert r.verdict is Verdict.WARN


def test_upload_never_reached_origin_is_i4_only():
    obs = _drill(fresh_after_s=None, origin_fresh_after_s=None)
    assert cdn.never_reached_origin(obs)
    rs = cdn.drill(obs, CONV)
    assert [(r.requirement, r.verdict) for r in rs] == [("I.4", Verdict.FAIL)]


def test_drill_error_and_restore_failure():
    r = _by(cdn.drill(_drill(error="IOError: permission denied"), CONV), "corte_drill")
    assert r.verdict is Verdict.ERROR
    bad = RestoreObservation(False, ({"path": "json/main.json", "before": [200, "a"], "after": [200, "b"]},))
    r = _by(cdn.drill(_drill(restore=bad), CONV), "corte_drill")
    assert r.verdict is Verdict.WARN and any(n.level == "bad" for n in r.notes)


def test_purge_unanswered_in_drill_is_error():
    p = PurgeObservation("cloudflare", ("everything",), False, (None,), error="ConnectTimeout")
    assert _by(cdn.drill(_drill(purge=p, fresh_after_s=None), CONV), "corte_drill").verdict is Verdict.ERROR


def test_without_drill():
    why = "cdn.drill not enabled"
    assert cdn.purge_without_drill(None, None, VARNISH, why).verdict is Verdict.MANUAL
    refused = PurgeObservation("PURGE", ("u",), False, (405,), "Method Not Allowed")
    assert cdn.purge_without_drill(refused, None, VARNISH, why).verdict is Verdict.FAIL
    down = PurgeObservation("PURGE", ("u",), False, (None,), error="ConnectionRefused")
    assert cdn.purge_without_drill(down, None, VARNISH, why).verdict is Verdict.ERROR
    noop = PurgeEffect("index.html", "hit", "hit", purge=OK_PURGE)
    assert cdn.purge_without_drill(OK_PURGE, noop, VARNISH, why).verdict is Verdict.FAIL
    evicted = PurgeEffect("index.html", "hit", "miss", purge=OK_PURGE)
    assert cdn.purge_without_drill(OK_PURGE, evicted, CLOUDFLARE, why).verdict is Verdict.PASS
    unmeasured = PurgeEffect("index.html", "miss", "miss", purge=OK_PURGE)
    assert cdn.purge_without_drill(OK_PURGE, unmeasured, None, why).verdict is Verdict.WARN
    failed_look = PurgeEffect("index.html", None, None, error="ConnectTimeout")
    assert cdn.purge_without_drill(None, failed_look, None, why).verdict is Verdict.ERROR


def test_presence():
    assert cdn.presence(None).verdict is Verdict.MANUAL
    assert cdn.presence(detect({})).verdict is Verdict.MANUAL
    assert cdn.presence(CLOUDFLARE).verdict is Verdict.PASS and not cdn.presence(CLOUDFLARE).notes
    r = cdn.presence(VARNISH)
    assert r.verdict is Verdict.PASS and r.notes[0].level == "warn"


def test_cache_state():
    assert cache_state({"X-Cache": "HIT"}) == "hit"
    assert cache_state({"CF-Cache-Status": "MISS"}) == "miss"
    assert cache_state({"X-Varnish": "32770 3"}) == "hit"
    assert cache_state({"X-Varnish": "32770"}) == "miss"
    assert cache_state({"Age": "12"}) == "hit"
    assert cache_state({}) is None


def test_next_corte_generator_and_derived(tmp_path):
    import json
    from prep_conformance import paquete
    from prep_conformance.probes.cdn_drill import derived_corte, next_corte
    d = paquete.generate_corte(tmp_path, 3)
    pq = paquete.load_paquete(d)
    nxt = next_corte(pq)
    assert nxt == paquete.corte_files(4)                       # the generator's own next corte, byte for byte
    # a paquete the generator did not make (a file edited, manifest rewritten): derived instead
    (d / "assets/app.css").write_text("body{color:red}")
    m = {p: paquete._file_sha256(d / p) for p in paquete.read_manifest(d)}
    (d / paquete.MANIFEST).write_text(paquete.manifest_text(m))
    pq = paquete.load_paquete(d)
    got = next_corte(pq)
    assert got == derived_corte(pq)
    doc = json.loads(got[paquete.MAIN_JSON])
    assert doc["secuencia"] == 4 and doc["ultimoCorte"]["hora"] == "21:00" and doc["corte_iso"].endswith("21:00:00-06:00")
    assert any(p.startswith("20240602_2100_PREP") for p in got) and not any("2040_PREP" in p for p in got)
    csv = next(b for p, b in got.items() if p.endswith(".csv"))
    assert b"02/06/2024 21:00 (UTC-6)" in csv.split(b"\r\n")[1]
    assert paquete.parse_manifest(got[paquete.MANIFEST].decode()) == {
        p: paquete.sha256_hex(b) for p, b in got.items() if p != paquete.MANIFEST}


def test_unreadable_origin_proves_nothing():
    obs = _drill(fresh_after_s=None, origin_fresh_after_s=None, origin_checked=False)
    assert not cdn.never_reached_origin(obs)
    rs = cdn.drill(obs, CONV)
    assert [(r.requirement, r.check, r.verdict) for r in rs] == [("II.2.b", "corte_drill", Verdict.FAIL)]


def test_purge_effect_read_unverified_is_noted():
    why = "certificate verify failed: certificate has expired"
    eff = PurgeEffect("index.html", "hit", "miss", purge=OK_PURGE, tls_unverified=why)
    r = cdn.purge_without_drill(OK_PURGE, eff, VARNISH, "no drill")
    assert r.verdict is Verdict.PASS and any(why in n.text_en and "II.2.d.https" in n.text for n in r.notes)
    assert r.evidence["effect"]["tls_unverified"] == why
    plain = cdn.purge_without_drill(OK_PURGE, PurgeEffect("index.html", "hit", "miss", purge=OK_PURGE), VARNISH, "x")
    assert not any("II.2.d.https" in n.text for n in plain.notes)


def test_drill_read_unverified_is_noted():
    why = "certificate verify failed: self-signed certificate"
    r = _by(cdn.drill(_drill(tls_unverified=why), CONV, VARNISH), "corte_drill")
    assert r.verdict is Verdict.PASS and any(why in n.text_en for n in r.notes)
    assert r.evidence["tls_unverified"] == why


def test_why_no_drill_is_kept_in_each_language():
    """The reason comes as "español / English" (``rules.cdn.why_no_drill``): the evidence keeps the two
    halves apart, so a Spanish dictamen shows only the Spanish one."""
    r = cdn.purge_without_drill(None, None, VARNISH, "cdn.drill no habilitado / cdn.drill not enabled")
    assert r.evidence["why_no_drill"] == "cdn.drill no habilitado"
    assert r.evidence["why_no_drill_en"] == "cdn.drill not enabled"
