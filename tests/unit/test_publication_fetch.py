"""The integrity fetch against a real loopback HTTP server (no mocks): pinning, concurrency bound,
progress, 404s, timeouts, the files main.json names beyond the manifest, the page and its scripts."""

from __future__ import annotations

import functools
import json
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from prep_conformance import paquete
from prep_conformance.convocatoria import load_convocatoria
from prep_conformance.probes import publication as pub
from prep_conformance.rules import publication as rules
from prep_conformance.verdict import Verdict

HOST = "prep.pruebas.example"


class _Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    in_flight = 0
    peak = 0
    lock = threading.Lock()
    delay = 0.0
    hosts: list[str] = []

    def log_message(self, *a):
        pass

    def do_GET(self):
        cls = type(self)
        with cls.lock:
            cls.in_flight += 1
            cls.peak = max(cls.peak, cls.in_flight)
            cls.hosts.append(self.headers.get("Host", ""))
        try:
            if "slow" in self.path:
                time.sleep(3)
            time.sleep(cls.delay)
            super().do_GET()
        finally:
            with cls.lock:
                cls.in_flight -= 1


@pytest.fixture
def site(tmp_path):
    root = paquete.generate_corte(tmp_path / "cortes", 5)
    handler = type("H", (_Handler,), {"peak": 0, "in_flight": 0, "hosts": [], "delay": 0.0})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield root, f"http://{HOST}:{srv.server_address[1]}/", handler
    srv.shutdown()
    srv.server_close()


def test_observe_pins_name_and_bounds_pool(site):
    root, url, handler = site
    handler.delay = 0.02
    seen = []
    with pub.make_session({HOST: "127.0.0.1"}, pool=3) as s:
        obs = pub.observe(url, root, s, workers=3, timeout=5, progress=lambda d, t: seen.append((d, t)))
    assert rules.integrity(obs).verdict is Verdict.PASS
    assert handler.peak <= 3                                  # the pool bounds requests in flight
    assert all(h.startswith(HOST) for h in handler.hosts)     # Host carries the site's name, not the address
    assert seen[-1][0] == seen[-1][1] == len(obs.paquete.manifest)      # main.json is in the manifest


def test_missing_and_extra_named(site):
    """The site serves a corte with an image removed and main.json naming a file outside the manifest."""
    root, url, _ = site
    img = sorted(root.glob("actas/*.png"))[0]
    img.unlink()
    doc = json.loads((root / paquete.MAIN_JSON).read_text())
    doc["archivos"].append({"ruta": "csv/EXTRA.csv", "bytes": 1, "sha256": "0" * 64})
    (root / paquete.MAIN_JSON).write_text(json.dumps(doc))
    (root / "csv/EXTRA.csv").write_text("x")
    delivered = paquete.generate_corte(root.parent.parent / "delivered", 5)     # the paquete as delivered
    pq = paquete.load_paquete(delivered)
    with pub.make_session({HOST: "127.0.0.1"}) as s:
        obs = pub.observe(url, root, s, timeout=5, paquete=pq)
    r = rules.integrity(obs)
    assert r.verdict is Verdict.FAIL
    assert [m["path"] for m in r.evidence["missing"]] == [f"actas/{img.name}"]
    assert [e["path"] for e in r.evidence["extra"]] == ["csv/EXTRA.csv"]
    assert {a["path"] for a in r.evidence["altered"]} == {paquete.MAIN_JSON}


def test_timeout_is_recorded_not_raised(site):
    root, url, _ = site
    (root / "slow.txt").write_text("late")
    with pub.make_session({HOST: "127.0.0.1"}) as s:
        got = pub.fetch_many(s, url, ["slow.txt", "index.html"], workers=2, timeout=0.5)
    assert got["slow.txt"].status is None and "Timeout" in got["slow.txt"].error
    assert got["index.html"].ok


def test_unreachable_site_is_one_error_not_thousands_of_timeouts(site):
    from prep_conformance.errors import CheckError
    root, _, _ = site
    with pub.make_session({HOST: "127.0.0.1"}) as s:
        with pytest.raises(CheckError, match="does not answer"):
            pub.observe(f"http://{HOST}:9/", root, s, timeout=1)
        got = pub.fetch_many(s, f"http://{HOST}:9/", [f"f{i}" for i in range(500)], workers=4, timeout=1,
                             max_failures=8)
    # behaviour, not wall-clock time: after the first failures the rest is not even attempted
    assert len(got) == 500 and all(sf.status is None for sf in got.values())
    assert sum("not attempted" in sf.error for sf in got.values()) > 400


def test_page_and_scripts(site):
    root, url, _ = site
    with pub.make_session({HOST: "127.0.0.1"}) as s:
        obs = pub.observe(url, root, s, timeout=5)
        page, scripts = pub.fetch_page(s, url, 5)
    assert page.ok and url + "assets/app.js" in scripts
    assert rules.page_shows_corte(obs, page, scripts).verdict is Verdict.PASS


def test_stale_site_judged_against_its_own_delivered_corte(tmp_path):
    c4, c5 = paquete.generate_series(tmp_path / "series", 2, first=4)
    handler = type("H", (_Handler,), {"peak": 0, "in_flight": 0, "hosts": [], "delay": 0.0})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(c4)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        with pub.make_session({HOST: "127.0.0.1"}) as s:
            obs = pub.observe(f"http://{HOST}:{srv.server_address[1]}/", c5, s, timeout=5)
    finally:
        srv.shutdown()
        srv.server_close()
    assert obs.reference is not None and obs.reference.corte.secuencia == 4
    assert rules.integrity(obs).verdict is Verdict.PASS
    r = rules.corte_current(obs, load_convocatoria("iem-michoacan-2024"))
    assert r.verdict is Verdict.FAIL and r.evidence["lag_cortes"] == 1


def test_site_lock_keeps_drill_and_pass_apart():
    from prep_conformance.errors import CheckError
    url = "https://lock-test.example/"
    with pub.site_lock(url, exclusive=False), pub.site_lock(url, exclusive=False):
        pass                                                    # passes share
    with pub.site_lock(url, exclusive=True):
        t0 = time.monotonic()
        with pytest.raises(CheckError, match="busy"):
            with pub.site_lock(url, exclusive=False, wait_s=0.5):
                pass
        assert time.monotonic() - t0 >= 0.5
    with pub.site_lock(url, exclusive=False, wait_s=0.5):      # released
        pass


@pytest.fixture(params=["valid", "self_signed", "wrong_name"])
def tls_site(request, tmp_path):
    """The corte over HTTPS (loopback, pinned name) with a lab-CA certificate of the given kind."""
    import ssl
    from prep_conformance.lab.ca import CA
    from prep_conformance.lab.scenario import CertSpec
    root = paquete.generate_corte(tmp_path / "cortes", 5)
    ca = CA(tmp_path / "pki")
    cert, key = ca.issue("site", CertSpec(request.param), names=() if request.param == "wrong_name" else (HOST,))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    handler = type("H", (_Handler,), {"peak": 0, "in_flight": 0, "hosts": [], "delay": 0.0})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield request.param, root, f"https://{HOST}:{srv.server_address[1]}/", str(ca.cert_path)
    srv.shutdown()
    srv.server_close()


def test_certificate_that_does_not_verify_is_noted_not_blocking(tls_site):
    """Trust = system CAs + ca_bundle, pinned name kept for SNI and the name check; a certificate that does
    not verify: the content is fetched without verification, judged as usual, and noted."""
    import warnings as w
    kind, root, url, bundle = tls_site
    with w.catch_warnings():
        w.simplefilter("error")                                 # no InsecureRequestWarning leaks out
        with pub.make_session({HOST: "127.0.0.1"}, ca_bundle=bundle, pool=4) as s:
            obs = pub.observe(url, root, s, workers=4, timeout=5)
            page, scripts = pub.fetch_page(s, url, 5)
    r = rules.integrity(obs)
    assert r.verdict is Verdict.PASS, r.summary_en
    assert rules.page_shows_corte(obs, page, scripts).verdict is Verdict.PASS
    if kind == "valid":
        assert obs.tls_unverified is None and page.tls_unverified is None and not r.notes
        return
    want = "self-signed" if kind == "self_signed" else "doesn't match"
    assert want in obs.tls_unverified and want in page.tls_unverified
    note = r.notes[-1]
    assert note.level == "warn" and "II.2.d.https" in note.text and want in note.text_en
    assert r.evidence["tls_unverified"] == obs.tls_unverified


def test_https_refused_is_still_an_error(tls_site):
    from prep_conformance.errors import CheckError
    _, root, _, bundle = tls_site
    with pub.make_session({HOST: "127.0.0.1"}, ca_bundle=bundle) as s:
        with pytest.raises(CheckError, match="does not answer"):
            pub.observe(f"https://{HOST}:9/", root, s, timeout=1)
        first, verify = pub.fetch_verifying_or_not(s, f"https://{HOST}:9/json/main.json", "json/main.json", 1, True)
    assert first.status is None and first.error_kind == "connect" and verify is None and first.tls_unverified is None
