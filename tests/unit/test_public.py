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
