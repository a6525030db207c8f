"""II.2.b: a CDN in front of the site, and a cache purge that works (the corte drill when enabled).

The drill changes the test site for a few seconds (a new corte uploaded, purged, then put back), so
it runs only when the profile says ``cdn.drill: true`` and the target is the test site. Otherwise
the configured purge is sent for the site's root and its effect read from the cache headers.
"""

import pytest

from prep_conformance import paquete
from prep_conformance.probes import drill as drill_probe
from prep_conformance.probes import http
from prep_conformance.probes import publication as pub
from prep_conformance.probes import purge as purge_probe
from prep_conformance.rules import cdn


def _detection(difusor):
    try:
        return http.cdn_detection(difusor)
    except Exception:  # detection is evidence here, its own failure is reported by the web checks
        return None


def why_no_drill(profile) -> str | None:
    """None when the drill may run; else the reason (Spanish / English in one line)."""
    if not profile.cdn.drill:
        return "cdn.drill no habilitado / cdn.drill not enabled"
    if profile.target != "test":
        return "el simulacro solo corre contra el sitio de prueba / the drill runs only against the test site"
    missing = [k for k, v in (("ssh", profile.ssh), ("package", profile.package), ("cdn.purge", profile.cdn.purge))
               if v is None]
    if missing:
        return f"faltan en el perfil / missing in the profile: {', '.join(missing)}"
    return None


@pytest.mark.requirement("II.2.b")
def test_cdn_present(difusor, record_check):
    prof = difusor.profile
    try:
        http.site(difusor)       # the pre-flight first: a silent site costs no more requests here
    except Exception as exc:  # noqa: BLE001 - evidence only (the web checks report the fault)
        qk = {"key": "unknown", "error": f"{type(exc).__name__}: {exc}"}
    else:
        with pub.session_for(prof, pool=2) as s:
            try:
                qk = purge_probe.query_cache_key(s, prof.target_url, "", prof.http.timeout_s)
            except Exception as exc:  # noqa: BLE001 - evidence only: its failure never changes the verdict
                qk = {"key": "unknown", "error": f"{type(exc).__name__}: {exc}"}
    try:
        mj = http.edge_main_json(difusor, "GET").headers
    except Exception:  # noqa: BLE001 - evidence only; the web checks report their own failure
        mj = None
    record_check(cdn.presence(_detection(difusor), qk, mj))


@pytest.mark.requirement("II.2.b")
def test_cdn_purge(difusor, record_check):
    prof, conv = difusor.profile, difusor.convocatoria
    # before anything changes: may its command run, may its token be read and go where it points?
    # (an untrusted profile: TrustRefused -> ERROR saying what was not done and the flag that allows it)
    token = purge_probe.authorize(prof) if prof.cdn.purge is not None else None
    http.site(difusor)           # the pre-flight: a silent site is ERROR (blocked) at once
    det = _detection(difusor)
    why = why_no_drill(prof)
    if why is None:
        why = purge_probe.purge_refusal(prof)      # nothing is uploaded when the purge could not be sent
    if why is None:
        from prep_conformance.probes import ssh as ssh_probe
        sftp = ssh_probe.session_for(difusor).sftp()
        pq = paquete.load_paquete(prof.package)
        with pub.site_lock(prof.target_url, exclusive=True), pub.session_for(prof, pool=8) as s:
            obs = drill_probe.run_drill(drill_probe.target_from_profile(difusor, sftp, s), pq)
        results = cdn.drill(obs, conv, det)
        record_check(*results)
        if not cdn.never_reached_origin(obs):
            return
        why = ("el corte del simulacro no llegó al origen (ver I.4) / the drill's corte never reached the origin "
               "(see I.4)")
    if prof.cdn.purge is None:
        record_check(cdn.purge_without_drill(None, None, det, why))
        return
    with pub.session_for(prof, pool=4) as s:
        effect = purge_probe.purge_effect(
            s, prof.target_url, "", lambda paths: purge_probe.purge_for_profile(prof, paths, session=s, token=token),
            prof.http.timeout_s, interval_s=conv.purge.poll_interval_s,
            # asynchronous providers are watched up to the convocatoria's bound; PURGE/BAN/Fastly answer done
            wait_s=conv.purge.fresh_within_s if prof.cdn.purge.method in purge_probe.ASYNC_METHODS else 0.0,
            follow=purge_probe.looker_for_profile(prof))
    record_check(cdn.purge_without_drill(effect.purge, effect, det, why))
