"""II.1.b the web server (name and version as served, a proper 404), with the CDN detection as evidence."""

import pytest

from prep_conformance.rules import cdn_detect, webserver


@pytest.mark.requirement("II.1.b")
def test_web_server(difusor, record_check):
    obs = difusor.observe
    at_origin = bool(obs.site().origin)
    r = webserver.evaluate(obs.root("origin" if at_origin else "edge"), obs.not_found(), at_origin=at_origin)
    record_check(r.with_(evidence={**r.evidence, "cdn": cdn_detect.detect(*obs.cdn_signals()).to_evidence()}))
