"""probes.bounded: every HTTP request has a total deadline and a body cap, named in words (issue 11).

The hostile servers are the lab's own (``prep_conformance.lab.hostile``), in threads on loopback."""

import time

import pytest
import requests

from prep_conformance.convocatoria import load_convocatoria
from prep_conformance.lab import hostile
from prep_conformance.probes import bounded, http
from prep_conformance.probes import publication as pub


@pytest.fixture(scope="module")
def servers():
    started = {m: hostile.serve(m, drip_s=0.05) for m in ("silent", "drip", "chunked", "junk")}
    yield {m: port for m, (_, port) in started.items()}
    for srv, _ in started.values():
        srv.shutdown()
        srv.server_close()


LIM = bounded.Limits(1.0, 256 * 1024, "main.json", 0.5)


def test_silent_server_costs_the_deadline_and_says_so(servers):
    t0 = time.monotonic()
    o = http.fetch(f"http://127.0.0.1:{servers['silent']}/json/main.json", limits=LIM)
    assert time.monotonic() - t0 < 2.5
    assert o.status is None and o.error_kind == "timeout"
    assert o.body_cut.reason == "no-answer" and o.error.startswith("main.json: no answer in 1.0 s")
    assert "sin respuesta" in o.body_cut.text_es


def test_dripping_body_is_cut_at_the_deadline(servers):
    t0 = time.monotonic()
    o = http.fetch(f"http://127.0.0.1:{servers['drip']}/json/main.json", limits=LIM)
    assert time.monotonic() - t0 < 2.5
    assert o.status == 200 and o.get("cache-control")      # the headers came and are judged
    cut = o.body_cut
    assert cut.reason == "deadline" and 0 < cut.bytes < 100
    assert cut.text_en == f"main.json: {cut.bytes} B after 1.0 s, still sending"
    assert "y seguía enviando" in cut.text_es
    assert o.to_evidence()["body_cut"]["reason"] == "deadline"


def test_endless_chunked_body_is_cut_at_the_size_cap(servers):
    o = http.fetch(f"http://127.0.0.1:{servers['chunked']}/json/main.json", limits=LIM)
    assert o.status == 200 and o.body_len == LIM.max_bytes
    assert o.body_cut.reason == "size" and "256 KiB" in o.body_cut.text_en


def test_headers_dripped_forever_are_cut_by_the_watchdog(servers):
    t0 = time.monotonic()
    o = http.fetch(f"http://127.0.0.1:{servers['junk']}/", limits=LIM)
    assert time.monotonic() - t0 < 2.5 and o.status is None and o.body_cut.reason == "no-answer"


def test_tls_handshake_to_a_silent_port_is_bounded(servers):
    t0 = time.monotonic()
    o = http.fetch(f"https://127.0.0.1:{servers['silent']}/", limits=LIM)
    assert time.monotonic() - t0 < 2.5 and o.status is None and o.error_kind == "timeout"


def test_bounded_session_raises_named_faults(servers):
    with bounded.BoundedSession() as s:
        t0 = time.monotonic()
        with pytest.raises(requests.RequestException) as ei:
            s.get(f"http://127.0.0.1:{servers['drip']}/x.csv", timeout=1.0)
        assert time.monotonic() - t0 < 2.5
        assert isinstance(ei.value, bounded.BodyCutError) and "still sending" in str(ei.value)
        with pytest.raises(bounded.NoAnswerError):
            s.get(f"http://127.0.0.1:{servers['silent']}/", timeout=1.0)


def test_publication_fetch_many_stops_after_the_breaker(servers):
    conv = load_convocatoria("iem-michoacan-2024")
    paths = [f"f{i}.csv" for i in range(40)]
    with pub.make_session({}) as s:
        t0 = time.monotonic()
        got = pub.fetch_many(s, f"http://127.0.0.1:{servers['drip']}/", paths, workers=2, timeout=1.0, conv=conv)
        took = time.monotonic() - t0
    assert took < 5                                    # two deadlines in flight, then the rest not attempted
    cut = [sf for sf in got.values() if sf.body_cut is not None]
    assert cut and all(sf.status is None and "still sending" in sf.error for sf in cut)
    skipped = [sf for sf in got.values() if sf.body_cut is None]
    assert skipped and all("ran out their deadline" in sf.error for sf in skipped)


def test_size_cut_file_keeps_status_and_a_digest_that_is_not_the_file(servers):
    with pub.make_session({}) as s:
        sf = pub.fetch_one(s, f"http://127.0.0.1:{servers['chunked']}/a.zip", "a.zip", 1.0, False, limits=LIM)
    assert sf.status == 200 and sf.body_cut.reason == "size" and not sf.ok and sf.body_sha256 and sf.body is None


def test_breaker_opens_after_the_limit():
    b = bounded.Breaker(2)
    cut = bounded.Cut("no-answer", "main.json", 0, 10.0, 10.0)
    b.record("http://1.2.3.4:80", cut)
    b.check("http://1.2.3.4:80")
    b.record("http://1.2.3.4:80", bounded.Cut("size", "x", 5, 1.0, 5))     # a size cut costs no time
    b.check("http://1.2.3.4:80")
    b.record("http://1.2.3.4:80", cut)
    with pytest.raises(Exception) as ei:
        b.check("http://1.2.3.4:80")
    assert "no answer in 10 s" in str(ei.value)
    b.check("http://1.2.3.4:443")                     # another place is not affected


def test_limits_come_from_the_convocatoria_and_the_profile_only_shortens():
    conv = load_convocatoria("iem-michoacan-2024")
    assert bounded.kind_of("/json/main.json", conv) == "main_json"
    assert bounded.kind_of("/", conv) == "page" and bounded.kind_of("/index.html") == "page"
    assert bounded.kind_of("/datos/x.csv") == "data"
    lim = bounded.limits_for(conv, "main_json", 120)
    assert lim.deadline_s == conv.fetch.deadline_s.main_json and lim.max_bytes == conv.fetch.max_bytes.main_json
    assert bounded.limits_for(conv, "data", 2).deadline_s == 2
