"""The Cloudflare purge adapter against the loopback stand-in (a real HTTP server), and the command adapter."""

from __future__ import annotations

import json
import sys

import pytest

from prep_conformance.probes import cdn as purge
from prep_conformance.profile import PurgeConfig
from prep_conformance.trust import TRUSTED
from tests.support.cloudflare_standin import CloudflareStandIn

TOKEN = "cf-test-token-3b1f"          # a test value, not a real credential
ZONE = "023e105f4ecef8ad9ca31a8372d0c353"
SITE = "https://prep-pruebas.medio.example/"


@pytest.fixture
def cf():
    seen = []
    with CloudflareStandIn(TOKEN, ZONE, on_purge=seen.append) as s:
        s.purged = seen
        yield s


def _cfg(cf, **kw):
    return PurgeConfig(**{"method": "cloudflare", "zone_id": ZONE, "token_env": "CF_TOKEN",
                          "api_base": cf.api_base, "timeout_s": 5, **kw})


def test_purge_everything_accepted(cf):
    obs = purge.purge(_cfg(cf), SITE, token=TOKEN)
    assert obs.accepted and obs.statuses == (200,) and obs.purge_ids == (ZONE,)
    assert cf.purged == [{"purge_everything": True}]
    assert TOKEN not in json.dumps(obs.to_evidence())


def test_purge_files_chunked_by_30(cf):
    paths = [f"actas/{i}.png" for i in range(45)] + ["json/main.json"]
    obs = purge.purge(_cfg(cf), SITE, paths, token=TOKEN)
    assert obs.accepted and obs.statuses == (200, 200)
    assert [len(b["files"]) for b in cf.purged] == [30, 16]
    assert cf.purged[1]["files"][-1] == "https://prep-pruebas.medio.example/json/main.json"


def test_wrong_token_refused_and_scrubbed(cf):
    obs = purge.purge(_cfg(cf), SITE, token="not-the-token")
    assert not obs.accepted and obs.statuses == (403,)
    assert "10000" in obs.detail and "not-the-token" not in json.dumps(obs.to_evidence())
    assert cf.purged == []


def test_missing_token(cf):
    obs = purge.purge(_cfg(cf), SITE, token=None)
    assert not obs.accepted and "9106" in obs.detail


def test_unknown_zone(cf):
    obs = purge.purge(_cfg(cf, zone_id="0" * 32), SITE, token=TOKEN)
    assert not obs.accepted and "7003" in obs.detail


def test_ignoring_standin_still_says_success():
    with CloudflareStandIn(TOKEN, ZONE, ignore=True) as s:
        obs = purge.purge(PurgeConfig(method="cloudflare", zone_id=ZONE, token_env="X", api_base=s.api_base),
                          SITE, token=TOKEN)
    assert obs.accepted            # accepted is not purged: only the drill can tell


def test_api_unreachable():
    cfg = PurgeConfig(method="cloudflare", zone_id=ZONE, token_env="X", api_base="http://127.0.0.1:9/client/v4",
                      timeout_s=2)
    obs = purge.purge(cfg, SITE, token=TOKEN)
    assert not obs.accepted and obs.error and obs.statuses == (None,)


def test_command_ok_and_paths_in_env(tmp_path):
    out = tmp_path / "paths"
    cfg = PurgeConfig(method="command", command=[sys.executable, "-c",
                      f"import os; open({str(out)!r}, 'w').write(os.environ['PREP_PURGE_PATHS'])"])
    obs = purge.purge(cfg, SITE, ["json/main.json", "index.html"], trust=TRUSTED)
    assert obs.accepted and obs.statuses == (0,)
    assert out.read_text().splitlines() == ["/json/main.json", "/index.html"]


def test_command_failure_scrubs_token():
    cfg = PurgeConfig(method="command", command=[sys.executable, "-c",
                      f"import sys; sys.stderr.write('denied for {TOKEN}'); sys.exit(3)"])
    obs = purge.purge(cfg, SITE, token=TOKEN, trust=TRUSTED)
    assert not obs.accepted and obs.statuses == (3,) and TOKEN not in obs.detail and "***" in obs.detail


def test_command_timeout():
    cfg = PurgeConfig(method="command", command=[sys.executable, "-c", "import time; time.sleep(5)"], timeout_s=0.5)
    obs = purge.purge(cfg, SITE, trust=TRUSTED)
    assert not obs.accepted and "TimeoutExpired" in obs.error
