"""nginx: ONE master serving every scenario, each with its origin (HTTP+HTTPS) and its public HTTPS front
(TLS termination in front of the Varnish edge), one ``sites/<scenario>.conf`` file per scenario."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from .component import Component, Context, LabError
from .render import render, scenario_vars, template_text
from .scenario import CertSpec, Scenario

NGINX = "/usr/sbin/nginx"


class Nginx(Component):
    name = "nginx"
    order = 10

    def available(self) -> str | None:
        return None if shutil.which("nginx") or os.path.exists(NGINX) else "nginx is not installed"

    def plan(self, ctx: Context) -> None:
        for sc in ctx.scenarios:
            for p in ("front_http", "front_https", "origin_http", "origin_https"):
                ctx.port(sc.id, p)

    def _dir(self, ctx: Context) -> Path:
        return ctx.state / "nginx"

    def _argv(self, ctx: Context, *extra: str) -> list[str]:
        d = self._dir(ctx)
        return [shutil.which("nginx") or NGINX, "-p", str(d), "-c", str(d / "nginx.conf"),
                "-e", str(ctx.logs / "nginx-error.log"), "-g", "daemon off;", *extra]

    def site_conf(self, ctx: Context, sc: Scenario) -> str:
        v = scenario_vars(ctx, sc)
        ctx.cert(f"{sc.id}-origin", CertSpec(), names=(v["origin_host"], v["host"], "127.0.0.1"))
        if sc.tls:
            ctx.cert(f"{sc.id}-front", sc.cert, names=(v["host"],))
        origin = sc.nginx_origin if sc.nginx_origin is not None else template_text("origin.conf.j2")
        front = sc.nginx_front if sc.nginx_front is not None else template_text(
            "front.conf.j2" if sc.tls else "front_http_only.conf.j2")
        parts = [render(origin, **v), render(front, **v)]
        if sc.nginx_extra:
            parts.append(render(sc.nginx_extra, **v))
        return "\n".join(parts)

    def start(self, ctx: Context) -> None:
        d = self._dir(ctx)
        sites = d / "sites"
        if sites.exists():
            shutil.rmtree(sites)
        sites.mkdir(parents=True)
        for t in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (d / "tmp" / t).mkdir(parents=True, exist_ok=True)
        (d / "nginx.conf").write_text(render(template_text("nginx.conf.j2"), run_dir=str(ctx.run_dir),
                                             logs=str(ctx.logs), nginx_dir=str(d), root=os.geteuid() == 0))
        ports: set[int] = set()
        for sc in ctx.scenarios:
            text = self.site_conf(ctx, sc)
            (sites / f"{sc.id}.conf").write_text(text)
            # wait for what the configs really listen on (a scenario may leave a port closed on purpose)
            ports.update(int(m) for m in re.findall(r"^\s*listen\s+127\.0\.0\.1:(\d+)", text, re.M))
        test = ctx.run(self._argv(ctx, "-t", "-q"), check=False)
        if test.returncode != 0:
            raise LabError(f"nginx refused the lab configuration ({d}/sites/*.conf):\n"
                           f"{(test.stderr or test.stdout).strip()}")
        ctx.spawn(self.name, "nginx", self._argv(ctx), ports=sorted(ports))

    def profile_for(self, sc: Scenario, ctx: Context) -> dict[str, Any]:
        p = ctx.ports_of(sc.id)
        host = ctx.host(sc.id)
        site = f"https://{host}:{p['front_https']}/" if sc.tls else f"http://{host}:{p['front_http']}/"
        http: dict[str, Any] = {"resolve": {host: "127.0.0.1"}, "ca_bundle": str(ctx.ca.cert_path),
                                "origin": f"http://127.0.0.1:{p['origin_http']}/", "http_port": p["front_http"]}
        if sc.tls:
            http["https_port"] = p["front_https"]
        return {"sites": {"test": site, "official": site}, "http": http}
