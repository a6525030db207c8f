"""II.2.b: a CDN in front of the site, and a cache purge that works (the corte drill when enabled).

The drill changes the test site for a few seconds (a new corte uploaded, purged, then put back), so
it runs only when the profile says ``cdn.drill: true`` and the target is the test site. Otherwise
the configured purge is sent for the site's root and its effect read from the cache headers.
"""

import pytest

from prep_conformance.probes import cdn as purge_probe
from prep_conformance.rules import cdn, cdn_detect


def _detection(obs):
    """The CDN in front, as evidence (None when it could not be read: the web checks report that)."""
    try:
        return cdn_detect.detect(*obs.cdn_signals())
    except Exception:  # noqa: BLE001 - evidence only
        return None


def _main_json_headers(obs):
    try:
        return obs.main_json("edge").headers
    except Exception:  # noqa: BLE001 - evidence only; the web checks report their own failure
        return None


@pytest.mark.requirement("II.2.b")
def test_cdn_present(difusor, record_check):
    obs = difusor.observe
    record_check(cdn.presence(_detection(obs), obs.query_cache_key(), _main_json_headers(obs)))


@pytest.mark.requirement("II.2.b")
def test_cdn_purge(difusor, record_check):
    prof, obs = difusor.profile, difusor.observe
    # before anything changes: may its command run, may its token be read and go where it points?
    # (an untrusted profile: TrustRefused -> ERROR saying what was not done and the flag that allows it)
    token = purge_probe.authorize(prof) if prof.cdn.purge is not None else None
    obs.site()                   # the pre-flight: a silent site is ERROR (blocked) at once
    det = _detection(obs)
    why = cdn.why_no_drill(prof) or purge_probe.purge_refusal(prof)   # nothing is uploaded when the purge could not be sent
    if why is None:
        drill = obs.drill()
        record_check(*cdn.drill(drill, difusor.convocatoria, det))
        if not cdn.never_reached_origin(drill):
            return
        why = ("el corte del simulacro no llegó al origen (ver I.4) / the drill's corte never reached the origin "
               "(see I.4)")
    if prof.cdn.purge is None:
        record_check(cdn.purge_without_drill(None, None, det, why))
        return
    effect = obs.purge_effect(token)
    record_check(cdn.purge_without_drill(effect.purge, effect, det, why))
