"""The CDN purge API stand-ins of the lab (CloudFront, Fastly, Akamai, Azure Front Door), one process each.

A scenario opts in with ``requires=("cdnapis",)`` and ``options={"cdnapis": {"provider": "fastly",
"delay": 0, "stale": 0, "estimated": 5, "ignore": False, "soft": False}}``. The component allocates the
port ``cdn_api``, writes the client's credentials into ``<state>/cdnapis/<id>/`` (mode 600: a token
file, an AWS credentials file, an ``.edgerc``), starts ``python -m prep_conformance.lab.cdn_apis`` with
the accepted credentials in its environment, driving the scenario's Varnish edge, and gives the
profile a ``cdn.purge`` for that provider with ``api_base`` pointing at the stand-in (used only with the
operator's consent: the lab's runs give it, see ``probes/purge_providers.api_base_allowed``).
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from .component import Component, Context

SERVICE_ID = "LABFASTLYSVC01"
ENV = "PREP_LAB_CDN_TOKEN"


def _wants(sc) -> dict[str, Any] | None:
    return sc.options.get("cdnapis") or None


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


class CdnApis(Component):
    name = "cdnapis"
    order = 30          # after Varnish (20), which the stand-ins drive

    def _dir(self, ctx: Context, sid: str) -> Path:
        return ctx.state / "cdnapis" / sid

    def plan(self, ctx: Context) -> None:
        for sc in ctx.scenarios:
            opts = _wants(sc)
            if not opts:
                continue
            port = ctx.port(sc.id, "cdn_api")
            d = self._dir(ctx, sc.id)
            data = ctx.data(self.name).setdefault(sc.id, {})
            prov = opts["provider"]
            if prov in ("fastly", "azure"):
                data.setdefault("token", secrets.token_urlsafe(24))
                _write(d / "token", data["token"] + "\n")
            elif prov == "cloudfront":
                data.setdefault("token", "AKIALAB" + secrets.token_hex(6).upper())
                data.setdefault("distribution_id", "E" + secrets.token_hex(6).upper())
                _write(d / "aws-credentials", f"[lab]\naws_access_key_id = {data['token']}\n"
                                              f"aws_secret_access_key = {secrets.token_urlsafe(30)}\n")
            elif prov == "akamai":
                _write(d / "edgerc", "[default]\n"
                       f"client_secret = {base64.b64encode(os.urandom(32)).decode()}\n"
                       f"host = 127.0.0.1:{port}\n"
                       f"access_token = akab-{secrets.token_hex(8)}-{secrets.token_hex(8)}\n"
                       f"client_token = akab-{secrets.token_hex(8)}-{secrets.token_hex(8)}\n")
        ctx.save()

    def start(self, ctx: Context) -> None:
        for sc in ctx.scenarios:
            opts = _wants(sc)
            if not opts:
                continue
            prov = opts["provider"]
            ports = ctx.ports_of(sc.id)
            data = ctx.data(self.name).get(sc.id, {})
            argv = [sys.executable, "-m", "prep_conformance.lab.cdn_apis", prov, "--port", str(ports["cdn_api"]),
                    "--edge", f"http://127.0.0.1:{ports['edge']}/", "--site-host", ctx.host(sc.id),
                    "--delay", str(opts.get("delay", 0)), "--stale", str(opts.get("stale", 0)),
                    "--estimated", str(opts.get("estimated", 5)), "--token-env", ENV,
                    "--service-id", SERVICE_ID]
            if prov == "akamai":
                argv += ["--edgerc", str(self._dir(ctx, sc.id) / "edgerc")]
            if prov == "cloudfront":
                argv += ["--distribution-id", data["distribution_id"]]
            if opts.get("ignore"):
                argv.append("--ignore")
            ctx.spawn(self.name, f"cdnapi-{sc.id}", argv, ports=[ports["cdn_api"]], timeout=60,
                      env={ENV: data.get("token", "")})

    def profile_for(self, sc, ctx: Context) -> dict[str, Any]:
        opts = _wants(sc)
        if not opts:
            return {}
        prov = opts["provider"]
        d = self._dir(ctx, sc.id)
        data = ctx.data(self.name).get(sc.id, {})
        purge: dict[str, Any] = {"method": prov, "url": None,
                                 "api_base": f"http://127.0.0.1:{ctx.ports_of(sc.id)['cdn_api']}"}
        if prov == "fastly":
            purge.update(service_id=SERVICE_ID, token_file=str(d / "token"), soft=bool(opts.get("soft")))
        elif prov == "azure":
            purge.update(subscription_id="00000000-0000-4000-8000-000000000016", resource_group="prep-lab",
                         profile_name="prep-lab-afd", endpoint_name=sc.id, token_file=str(d / "token"))
        elif prov == "akamai":
            purge.update(edgerc=str(d / "edgerc"), network="staging")
        elif prov == "cloudfront":
            purge.update(distribution_id=data.get("distribution_id", "E0"), aws_profile="lab",
                         aws_credentials_file=str(d / "aws-credentials"))
        return {"cdn": {"purge": purge}}


COMPONENT = CdnApis()
