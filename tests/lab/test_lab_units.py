"""Pure parts of the lab (no servers): scenarios, merge, expectations, certificates, configs, convocatoria."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509

from prep_conformance.convocatoria import load_convocatoria
from prep_conformance.lab import CertSpec, Scenario, deep_merge, discover, mismatches
from prep_conformance.lab.ca import CA
from prep_conformance.lab.component import Context
from prep_conformance.lab.manager import lab_convocatoria
from prep_conformance.lab.nginx import Nginx
from prep_conformance.lab.varnish import Varnish

import yaml


def test_deep_merge():
    base = {"a": {"b": 1, "c": 2}, "l": [1], "x": 1}
    assert deep_merge(base, {"a": {"c": 3, "d": 4}, "l": [2], "x": None}) == {"a": {"b": 1, "c": 3, "d": 4}, "l": [2]}
    assert base == {"a": {"b": 1, "c": 2}, "l": [1], "x": 1}


def test_mismatches():
    reqs = {"I.3": "PASS", "II.1.e": "FAIL", "II.2.e": "MANUAL", "I.6": "ERROR"}
    assert mismatches({"II.1.e": "FAIL", "I.6": "ERROR"}, reqs) == []
    assert mismatches({"II.1.e": "FAIL"}, reqs) == ["I.6: unexpected ERROR"]
    assert mismatches({"I.3": "FAIL", "II.1.e": "FAIL", "I.6": "ERROR"}, reqs) == ["I.3: expected FAIL, got PASS"]


def test_scenario_validation():
    with pytest.raises(ValueError):
        Scenario("Not A Slug", "x", "x")
    with pytest.raises(ValueError):
        Scenario("ok", "x", "x", expect={"I.3": "BROKEN"})
    with pytest.raises(ValueError):
        CertSpec("weird")


def test_discovered_scenarios_are_consistent():
    scs, problems = discover()
    ids = [s.id for s in scs]
    assert ids[0] == "compliant" and len(ids) == len(set(ids))
    from prep_conformance import catalog
    known = set(catalog.requirement_ids())
    for s in scs:
        assert set(s.expect) <= known, s.id
    core = {s.id for s in scs if s.family == "core"}
    assert {"compliant", "header-trap", "edge-alters-header", "cert-expired", "cert-wrong-name", "http-only",
            "stale-corte", "altered-file", "purge-noop"} <= core


def test_lab_convocatoria_moves_only_the_window():
    now = dt.datetime(2026, 11, 28, 0, 0, tzinfo=dt.timezone.utc)
    doc = lab_convocatoria(now)
    start, end = (dt.datetime.fromisoformat(doc["publication"][k]) for k in ("start", "end"))
    assert start == dt.datetime.fromisoformat("2026-12-11T20:00:00-06:00")
    assert end - start == dt.timedelta(hours=24)
    assert doc["id"] == "iem-michoacan-2024" and doc["thresholds"]["disk_free_gb"] == 20


def test_ca_issues_what_the_spec_says(tmp_path):
    ca = CA(tmp_path)
    now = dt.datetime.now(dt.timezone.utc)
    cases = {"valid": CertSpec(), "expired": CertSpec("expired"), "wrong": CertSpec("wrong_name"),
             "self": CertSpec("self_signed"), "until": CertSpec(not_after=now + dt.timedelta(days=20), key="rsa")}
    for name, spec in cases.items():
        cert_path, key_path = ca.issue(name, spec, ("site.lab.prep.example",), now=now)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
        if name == "wrong":
            assert sans == ["otro.lab.prep.example"]
        else:
            assert sans == ["site.lab.prep.example"]
        if name == "expired":
            assert cert.not_valid_after_utc < now
        elif name == "until":
            assert abs(cert.not_valid_after_utc - (now + dt.timedelta(days=20))) < dt.timedelta(seconds=2)
        else:
            assert cert.not_valid_after_utc > now + dt.timedelta(days=300)
        assert (cert.issuer == cert.subject) == (name == "self")
        assert key_path.stat().st_mode & 0o077 == 0
    # unchanged request: same files are reused
    before = (tmp_path / "valid.pem").read_bytes()
    ca.issue("valid", CertSpec(), ("site.lab.prep.example",), now=now)
    assert (tmp_path / "valid.pem").read_bytes() == before


def _ctx(tmp_path: Path, scenarios) -> Context:
    conv = tmp_path / "conv.yaml"
    conv.write_text(yaml.safe_dump(lab_convocatoria(dt.datetime.now(dt.timezone.utc)), sort_keys=False))
    load_convocatoria(conv)
    ctx = Context(tmp_path, scenarios, CA(tmp_path / "pki"), (dt.datetime.now(dt.timezone.utc),) * 2, conv,
                  {"small": [tmp_path / "p" / "corte-0003"]}, 30000)
    ctx.save = lambda: None
    for c in (Nginx(), Varnish()):
        c.plan(ctx)
    return ctx


def test_configs_render_per_scenario(tmp_path):
    from prep_conformance.lab.scenarios.core import SCENARIOS
    by = {s.id: s for s in SCENARIOS}
    scs = [by["compliant"], by["header-trap"], by["edge-alters-header"], by["http-only"], by["purge-noop"]]
    ctx = _ctx(tmp_path, scs)
    assert ctx.ports_of("compliant") == {"front_http": 30000, "front_https": 30001, "origin_http": 30002,
                                         "origin_https": 30003, "edge": 30020}
    ng = Nginx()
    conf = ng.site_conf(ctx, by["compliant"])
    assert 'location = /json/main.json {\n        add_header Cache-Control "no-cache, no-store, must-revalidate" always;' in conf
    assert "listen 127.0.0.1:30001 ssl;" in conf and "ssl_protocols TLSv1.2 TLSv1.3;" in conf
    trap = ng.site_conf(ctx, by["header-trap"])
    assert "location /json/ {" in trap and "location = /json/main.json" not in trap
    assert " ssl;" not in ng.site_conf(ctx, by["http-only"]).split("# public front")[1]
    vcl = Varnish().vcl(ctx)
    assert vcl.count("sub lab_recv_") == 5 and 'local.socket == "s0"' in vcl
    assert 'set resp.http.Cache-Control = "public, max-age=60";' in vcl
    purge_noop = vcl.split("sub lab_recv_4 {")[1].split("}\nsub")[0]
    assert "return (purge)" not in purge_noop and "ban(" not in purge_noop
    prof = ng.profile_for(by["compliant"], ctx)
    assert prof["sites"]["test"] == "https://compliant.lab.prep.example:30001/"
    assert ng.profile_for(by["http-only"], ctx)["sites"]["test"].startswith("http://http-only.lab.prep.example:")
    assert Varnish().profile_for(by["compliant"], ctx)["cdn"]["purge"]["url"] == "http://127.0.0.1:30020/"
