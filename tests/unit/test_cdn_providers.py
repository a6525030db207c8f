"""Purge adapters (CloudFront, Fastly, Akamai, Azure Front Door) against the lab's stand-ins on loopback.

The stand-ins check credentials as the providers do (SigV4 access key, Fastly-Key, EdgeGrid signature,
Azure bearer) and answer asynchronously; no edge is driven here (see tests/lab for that). Every test
also greps what the observation would put in a report for the secrets used.
"""

import json
import time

import pytest

from prep_conformance.lab.cdn_apis import AkamaiStandIn, AzureStandIn, CloudFrontStandIn, FastlyStandIn
from prep_conformance.probes import cdn as purge
from prep_conformance.probes import cdn_providers as pp
from prep_conformance.profile import PurgeConfig

SITE = "https://prep.medio.example/"
TOKEN = "s3cr3t-token-value-0123456789"


@pytest.fixture(autouse=True)
def _consent(monkeypatch):
    monkeypatch.setenv(pp.ALLOW_API_BASE_ENV, "1")      # the operator allows the stand-ins' addresses
    monkeypatch.setenv("CDN_TOKEN", TOKEN)


def _leaks(obs, *secrets):
    text = json.dumps(obs.to_evidence())
    return [s for s in secrets if s and s in text]


def test_fastly_url_soft_purge_sends_key_and_soft_header():
    with FastlyStandIn(TOKEN, "SVC1") as f:
        cfg = PurgeConfig(method="fastly", service_id="SVC1", token_env="CDN_TOKEN", soft=True, api_base=f.base_url)
        obs = purge.purge(cfg, SITE, ["json/main.json"])
    assert obs.accepted and obs.purge_ids and obs.completion_signal == "none"
    assert f.received[0]["path"] == "/purge/prep.medio.example/json/main.json"
    assert f.received[0]["soft"] and f.received[0]["key_ok"]
    assert not _leaks(obs, TOKEN)


def test_fastly_surrogate_key_and_wrong_token(monkeypatch):
    with FastlyStandIn(TOKEN, "SVC1") as f:
        cfg = PurgeConfig(method="fastly", service_id="SVC1", token_env="CDN_TOKEN", tags=["prep", "main"],
                          api_base=f.base_url)
        ok = purge.purge(cfg, SITE, [])
        monkeypatch.setenv("CDN_TOKEN", "wrong-token-xyz")
        bad = purge.purge(cfg, SITE, [])
    assert ok.accepted and ok.targets == ("key:prep", "key:main")
    assert [r["path"] for r in f.received[:2]] == ["/service/SVC1/purge/prep", "/service/SVC1/purge/main"]
    assert not bad.accepted and bad.statuses == (401,) and "credentials" in bad.detail
    assert not _leaks(bad, "wrong-token-xyz")


def test_akamai_edgegrid_signed_and_verified(tmp_path):
    with AkamaiStandIn(estimated_s=5) as a:
        rc = tmp_path / ".edgerc"
        rc.write_text(a.edgerc_text())
        cfg = PurgeConfig(method="akamai", edgerc=str(rc), api_base=a.base_url, network="staging")
        obs = purge.purge(cfg, SITE, ["json/main.json"])
        # a wrong secret: Akamai answers 401 "signature does not match"
        rc.write_text(a.edgerc_text().replace(a.client_secret, "AAAA" + a.client_secret[4:]))
        bad = purge.purge(cfg, SITE, ["json/main.json"])
    assert obs.accepted and obs.statuses == (201,) and obs.estimated_s == 5 and obs.completion_signal == "estimate"
    assert a.received[0]["path"] == "/ccu/v3/invalidate/url/staging" and a.received[0]["signed_ok"]
    assert not bad.accepted and bad.statuses == (401,) and "signature" in bad.detail.lower()
    assert not _leaks(obs, a.client_secret, a.access_token, a.client_token)


def test_akamai_edgerc_host_must_be_akamai_without_api_base(tmp_path):
    rc = tmp_path / ".edgerc"
    rc.write_text("[default]\nclient_secret = c2VjcmV0\nhost = 127.0.0.1:9\naccess_token = a\nclient_token = c\n")
    obs = purge.purge(PurgeConfig(method="akamai", edgerc=str(rc)), SITE, [])
    assert obs.not_sent and "127.0.0.1" in obs.not_sent and not obs.accepted


def test_azure_202_then_async_operation_until_succeeded():
    with AzureStandIn(TOKEN, delay_s=1.0) as az:
        cfg = PurgeConfig(method="azure", subscription_id="sub-1", resource_group="rg", profile_name="afd",
                          endpoint_name="prep", token_env="CDN_TOKEN", api_base=az.base_url)
        ad = pp.adapter_for(None, cfg)
        obs = ad.send(["json/main.json"])
        assert obs.accepted and obs.statuses == (202,) and obs.completion_state is None
        obs = pp.follow(ad, obs, time.monotonic() + 10, 0.2)
    assert obs.completion_state == "complete" and 0.8 <= obs.reported_complete_after_s <= 3
    assert [c.state for c in obs.completion][0] == "in_progress"
    assert not _leaks(obs, TOKEN)


def test_azure_refuses_to_poll_an_operation_on_another_host():
    cfg = PurgeConfig(method="azure", subscription_id="s", resource_group="r", profile_name="p", endpoint_name="e",
                      token_env="CDN_TOKEN", api_base="http://127.0.0.1:9")
    ad = pp.adapter_for(None, cfg)
    obs = purge.PurgeObservation("azure", ("/",), True, (202,), at=time.monotonic(), completion_signal="status",
                                 poll_ref=("http://attacker.example/op/1",))
    obs = pp.look(ad, obs)
    assert obs.completion[-1].state == "unknown" and "attacker.example" in obs.completion[-1].detail


def test_cloudfront_moto_invalidation_in_progress_then_completed(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIALABSTANDIN0001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-value-do-not-leak")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with CloudFrontStandIn("AKIALABSTANDIN0001", delay_s=1.0) as cf:
        cfg = PurgeConfig(method="cloudfront", distribution_id=cf.distribution_id, api_base=cf.base_url)
        ad = pp.adapter_for(None, cfg)
        obs = ad.send(["json/main.json", ""])
        assert obs.accepted and obs.purge_ids[0] and obs.targets == ("/", "/json/main.json")
        obs = pp.follow(ad, obs, time.monotonic() + 10, 0.25)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAOTHERKEY")
        bad = pp.adapter_for(None, cfg).send(["json/main.json"])
    assert obs.completion_state == "complete" and obs.completion[0].state == "in_progress"
    assert not bad.accepted and "InvalidClientTokenId" in bad.detail
    assert not _leaks(obs, "aws-secret-value-do-not-leak") and not _leaks(bad, "aws-secret-value-do-not-leak")


def test_api_base_needs_the_operators_consent(monkeypatch):
    monkeypatch.delenv(pp.ALLOW_API_BASE_ENV)
    cfg = PurgeConfig(method="fastly", service_id="S", token_env="CDN_TOKEN", api_base="http://127.0.0.1:9")
    obs = purge.purge(cfg, SITE, [])
    assert obs.not_sent and "--trust-profile" in obs.not_sent and not obs.accepted


def test_missing_token_is_named_not_shown(monkeypatch):
    monkeypatch.delenv("CDN_TOKEN")
    cfg = PurgeConfig(method="fastly", service_id="S", token_env="CDN_TOKEN")
    obs = purge.purge(cfg, SITE, [])
    assert obs.not_sent and "CDN_TOKEN" in obs.not_sent


def test_profile_keys_validated():
    with pytest.raises(ValueError, match="service_id"):
        PurgeConfig(method="fastly", token_env="T")
    with pytest.raises(ValueError, match="distribution_id"):
        PurgeConfig(method="cloudfront")
    with pytest.raises(ValueError, match="cpcodes"):
        PurgeConfig(method="fastly", service_id="s", token_env="T", cpcodes=[1])
    assert PurgeConfig(method="azure", subscription_id="s", resource_group="r", profile_name="p",
                       endpoint_name="e", token_env="T").network == "production"


def test_credentials_files_token_and_aws(tmp_path, monkeypatch):
    for v in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(v, raising=False)
    tok = tmp_path / "fastly.token"
    tok.write_text(TOKEN + "\n")
    c = pp.credentials(None, PurgeConfig(method="fastly", service_id="S", token_file=str(tok)))
    assert c.values["token"] == TOKEN and c.secrets == (TOKEN,)
    aws = tmp_path / "aws-credentials"
    aws.write_text("[purge]\naws_access_key_id = AKIAFILEKEY\naws_secret_access_key = file-secret-value\n")
    c = pp.credentials(None, PurgeConfig(method="cloudfront", distribution_id="E1", aws_profile="purge",
                                         aws_credentials_file=str(aws)))
    assert c.missing is None and "file-secret-value" in c.secrets


def test_untrusted_cloudfront_uses_only_its_own_credentials_file(tmp_path, monkeypatch):
    """boto3's chain prefers AWS_* variables: for an untrusted profile only the file it brings is read."""
    from types import SimpleNamespace
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAMACHINEKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "machine-secret-never-sent")
    aws = tmp_path / "aws-credentials"
    aws.write_text("[lab]\naws_access_key_id = AKIAFROMFILE01\naws_secret_access_key = from-file-secret\n")
    cfg = PurgeConfig(method="cloudfront", distribution_id="E1", aws_profile="lab", aws_credentials_file=str(aws))
    untrusted = SimpleNamespace(target_url=SITE)
    c = pp.credentials(untrusted, cfg)
    frozen = c.values["session"].get_credentials().get_frozen_credentials()
    assert frozen.access_key == "AKIAFROMFILE01" and "machine-secret-never-sent" not in c.secrets
    from prep_conformance import trust
    with pytest.raises(trust.TrustRefused):      # without a file of its own: this machine's chain needs consent
        pp.credentials(untrusted, PurgeConfig(method="cloudfront", distribution_id="E1"))
