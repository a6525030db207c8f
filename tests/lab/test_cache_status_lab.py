"""The purge's "cached before" look on the lab's real Varnish: no wait when ``X-Cache`` answers, one more look
a second later when ``Age`` is the only signal (``cache_status.needs_age_wait``), the same hit either way."""

import pytest

from prep_conformance.probes import publication as pub
from prep_conformance.probes import cdn as purge_probe
from prep_conformance.profile import PurgeConfig, load_profile


def _watched(session, hide=()):
    """Count the GETs the probe makes; hide some response headers, as a cache that does not send them."""
    gets = []
    real = session.request

    def request(method, url, *args, **kwargs):
        r = real(method, url, *args, **kwargs)
        for name in hide:
            r.headers.pop(name, None)
        if method.upper() == "GET":
            gets.append(url)
        return r

    session.request = request
    return gets


@pytest.mark.parametrize("hide,looks_before", [((), 2), (("X-Cache", "X-Varnish"), 3)],
                         ids=["x-cache-answers", "age-only"])
def test_age_wait_only_when_age_alone_tells(lab_profile, monkeypatch, hide, looks_before):
    import time
    slept, real_sleep = [], time.sleep
    monkeypatch.setattr(purge_probe.time, "sleep", lambda s: (slept.append(s), real_sleep(s)))
    prof = load_profile(lab_profile("compliant"))
    cfg = PurgeConfig(method="PURGE", url=prof.cdn.purge.url)
    with pub.session_for(prof) as s:
        purge_probe.purge(cfg, prof.target_url, ["index.html"], session=s)     # start from an empty cache
        gets = _watched(s, hide)
        eff = purge_probe.purge_effect(s, prof.target_url, "index.html",
                                       lambda paths: purge_probe.purge(cfg, prof.target_url, paths, session=s))
    assert eff.before == "hit"
    assert (slept == []) is (not hide)            # a wait only where Age alone can tell
    assert len(gets) == looks_before + 1          # the looks before the purge, then one after it
    if not hide:
        assert eff.after == "miss" and eff.evicted is True
    else:       # Age: 0 right after the purge says nothing: not measurable, never a false "evicted"
        assert eff.after is None and eff.evicted is None
