"""I.3 public access on hand-built request chains."""

from prep_conformance.probes.http import HttpObservation
from prep_conformance.rules import public
from prep_conformance.verdict import Verdict


def o(status, *headers, url="https://prep.lab.prep.example/", body=""):
    return HttpObservation("x", url, "GET", status, "", "HTTP/1.1", tuple(headers), body_sample=body)


def test_200_is_public():
    assert public.evaluate([o(200)], "raíz").verdict is Verdict.PASS


def test_basic_auth_fails_with_challenge():
    r = public.evaluate([o(401, ("WWW-Authenticate", 'Basic realm="PREP"'))], "raíz")
    assert r.verdict is Verdict.FAIL and r.evidence["challenge"] == ['WWW-Authenticate: Basic realm="PREP"']


def test_forbidden_and_payment_fail():
    assert public.evaluate([o(403)], "main.json").verdict is Verdict.FAIL
    assert public.evaluate([o(402)], "main.json").verdict is Verdict.FAIL


def test_redirect_to_login_fails_even_if_200():
    chain = [o(302, ("Location", "/login?next=/")), o(200, url="https://prep.lab.prep.example/login?next=/")]
    assert public.evaluate(chain, "raíz").verdict is Verdict.FAIL


def test_plain_redirect_then_200_passes_with_note():
    chain = [o(301, ("Location", "https://prep.lab.prep.example/"), url="http://prep.lab.prep.example/"), o(200)]
    r = public.evaluate(chain, "raíz")
    assert r.verdict is Verdict.PASS and r.notes


def test_404_fails_no_answer_errors():
    assert public.evaluate([o(404)], "main.json").verdict is Verdict.FAIL
    none = HttpObservation("x", "https://h/", "GET", None, error="timed out", error_kind="timeout")
    assert public.evaluate([none], "raíz").verdict is Verdict.ERROR


# ---- the site's name in DNS (I.3 site_dns)
from prep_conformance.probes.dns import DnsObservation  # noqa: E402
from prep_conformance.rules.cdn_detect import detect  # noqa: E402


def test_dns_resolves_with_chain_and_caa_notes():
    o = DnsObservation("prep.medio.example", "127.0.0.1:53", ("prep.medio.example.cdn.cloudflare.net",),
                       "prep.medio.example.cdn.cloudflare.net", ("104.16.1.1",), (), ('0 issue "letsencrypt.org"',),
                       "medio.example")
    r = public.dns_resolution(o, None, detect({}, o.cname_chain))
    assert r.verdict is Verdict.PASS and r.evidence["cdn"]["provider"] == "cloudflare"
    assert any("CNAME" in n.text_en for n in r.notes) and any("CAA" in n.text_en for n in r.notes)


def test_dns_nxdomain_fails_unless_pinned():
    o = DnsObservation("prep.medio.example", "127.0.0.1:53", rcode="NXDOMAIN")
    assert public.dns_resolution(o, None).verdict is Verdict.FAIL
    assert public.dns_resolution(o, "203.0.113.10").verdict is Verdict.WARN


def test_dns_timeout_is_error_and_other_address_is_noted():
    assert public.dns_resolution(DnsObservation("h", "ns", rcode="TIMEOUT", error="timeout"), None).verdict \
        is Verdict.ERROR
    o = DnsObservation("h", "ns", a=("198.51.100.7",))
    r = public.dns_resolution(o, "127.0.0.1")
    assert r.verdict is Verdict.PASS and any(n.level == "warn" for n in r.notes)
