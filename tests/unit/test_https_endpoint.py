"""Where the web checks connect (pure: URLs, ports, pinning parameters; no network)."""

import requests

from prep_conformance.probes import http
from prep_conformance.profile import Profile


def prof(site, **http_kw):
    return Profile(id="x", sites={"test": site}, http=http_kw)


def test_default_ports():
    ep = http.endpoint(prof("https://prep.medio.example/"))
    assert (ep.https_url, ep.http_url, ep.port, ep.pin) == ("https://prep.medio.example/",
                                                           "http://prep.medio.example/", 443, None)


def test_lab_ports_and_pin():
    ep = http.endpoint(prof("https://Prep.Lab.Prep.Example:27502/", resolve={"prep.lab.prep.example": "127.0.0.1"},
                            http_port=27501))
    assert ep.host == "prep.lab.prep.example" and ep.pin == "127.0.0.1"
    assert ep.https_url == "https://prep.lab.prep.example:27502/" and ep.http_url == "http://prep.lab.prep.example:27501/"


def test_http_site_guesses_https_443_unless_told():
    assert http.endpoint(prof("http://h.example:8080/")).https_url == "https://h.example/"
    assert http.endpoint(prof("http://h.example:8080/", https_port=8443)).https_url == "https://h.example:8443/"


def test_main_json_is_from_the_site_root():
    assert http.url_for("https://h.example/prep/index.html", "/json/main.json") == "https://h.example/json/main.json"


def test_pinned_adapter_keeps_the_name_for_tls():
    ad = http.PinnedAdapter("127.0.0.1", None, "prep.lab.prep.example", http.ssl_context(None))
    req = requests.Request("GET", "https://prep.lab.prep.example:27502/").prepare()
    host_params, pool_kwargs = ad.build_connection_pool_key_attributes(req, True)
    assert host_params["host"] == "127.0.0.1" and host_params["port"] == 27502
    assert pool_kwargs["server_hostname"] == pool_kwargs["assert_hostname"] == "prep.lab.prep.example"
    assert "ssl_context" in pool_kwargs


def test_raw_lines_redact_secrets_and_merge():
    o = http.HttpObservation("v", "u", "GET", 200, headers=(("Set-Cookie", "s=1"), ("Cache-Control", "a"),
                                                            ("cache-control", "b")))
    assert o.get("CACHE-CONTROL") == "a, b" and o.getlist("cache-control") == ["a", "b"]
    assert o.raw_lines() == ["Set-Cookie: [redactado]", "Cache-Control: a", "cache-control: b"]
