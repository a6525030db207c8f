"""II.1.b identification on hand-built responses."""

import pytest

from prep_conformance.probes.http import HttpObservation
from prep_conformance.rules import webserver
from prep_conformance.verdict import Verdict

LIGHTTPD_404 = ('<?xml version="1.0" encoding="iso-8859-1"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 '
                'Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n<html '
                'xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n <head>\n  <title>404 Not Found'
                '</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n </body>\n</html>\n')


def o(*headers, status=200, body=""):
    return HttpObservation("x", "http://127.0.0.1:18080/", "GET", status, "", "HTTP/1.1", tuple(headers),
                           body_sample=body)


@pytest.mark.parametrize("banner,sid,version", [
    ("nginx/1.22.1", "nginx", "1.22.1"), ("Apache/2.4.62 (Debian)", "apache", "2.4.62"),
    ("Microsoft-IIS/10.0", "iis", "10.0"), ("lighttpd/1.4.69", "lighttpd", "1.4.69"), ("Caddy", "caddy", None),
    ("LiteSpeed", "litespeed", None), ("Apache-Coyote/1.1", "tomcat", "1.1"), ("openresty", "openresty", None),
])
def test_banner(banner, sid, version):
    r = webserver.evaluate(o(("Server", banner)))
    assert r.verdict is Verdict.PASS and r.evidence["server"] == sid and r.evidence["version"] == version


def test_cdn_banner_masks_manual():
    r = webserver.evaluate(o(("Server", "cloudflare")), at_origin=False)
    assert r.verdict is Verdict.MANUAL and r.evidence["identified_by"] == "masked"


def test_hidden_banner_fingerprint_is_warn():
    r = webserver.evaluate(o(), o(status=404, body=LIGHTTPD_404))
    assert r.verdict is Verdict.WARN and r.evidence["server"] == "lighttpd"
    r = webserver.evaluate(o(), o(status=404, body="<html><hr><center>nginx</center></html>"))
    assert r.evidence["server"] == "nginx"


def test_hidden_no_fingerprint_is_manual_never_fail():
    assert webserver.evaluate(o(), o(status=404, body="nope")).verdict is Verdict.MANUAL


def test_no_response_is_error():
    none = HttpObservation("x", "http://h/", "GET", None, error="refused", error_kind="connect")
    assert webserver.evaluate(none, none).verdict is Verdict.ERROR
