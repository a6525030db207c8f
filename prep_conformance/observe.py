"""What the checks of one difusor observe, each thing once per run: the observation layer.

``difusor.observe`` is to a check what testinfra's ``host`` is to a test: named methods (``main_json``,
``tls_scan``, ``disk``, ``publication``, ``load_run`` ...) that each own their cache key and their
pre-flight. This is the only module that calls ``Difusor.once``; probes take explicit configuration and
never see the difusor; rules judge what is returned here. A check reads as three lines::

    @pytest.mark.requirement("II.1.c")
    def test_disk_free(difusor, record_check):
        record_check(disk.evaluate(difusor.observe.disk(), difusor.convocatoria))

Keys and pre-flights: every web observation first passes ``site()`` (TCP reach and an answer in time,
once); every SSH observation first passes ``ssh()`` (one login). When either fails, the first check that
asks gets the reason as ERROR and every later one "bloqueado" at once (``Difusor.once``).

Independent read-only observations of the web checks (TLS scan, main.json at the edge and origin, the
roots, DNS) are started together in threads when the difusor's first check runs (``prefetch``; by default
for a site across a network, ``--prep-prefetch``); an observation that changes the site or loads it
(purge, drill, load, burst, upload) first waits for them.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable
from urllib.parse import urlsplit

from .errors import CheckError
from .probes import bounded
from .probes import http

if TYPE_CHECKING:  # pragma: no cover
    from .difusor import Difusor

PREFETCH_THREADS = 4
# which requirement needs which read-only observation (``prefetch``); the others are computed on demand
PREFETCH = {
    "II.2.d.https": ("tls_scan", "plain_root"),
    "II.1.e": ("edge_get", "edge_head", "origin_get", "origin_head", "plain_main_json"),
    "II.1.b": ("edge_root", "origin_root"),
    "I.3": ("public_root", "public_main_json", "dns"),
    "II.2.b": ("edge_root", "edge_get", "dns"),
}


class Observations:
    """The observations of one difusor (``difusor.observe``). Methods return frozen observations from
    ``probes``; failures are ``CheckError`` (ERROR) and, after the first, ``Blocked``."""

    def __init__(self, difusor: "Difusor"):
        self.difusor = difusor
        self.profile = difusor.profile
        self.conv = difusor.convocatoria
        self._pending: list[Future] = []
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _once(self, key: str, fn: Callable[[], Any]) -> Any:
        return self.difusor.once(key, fn)

    # ------------------------------------------------------------------------------ HTTP: the site
    def client(self) -> http.Client:
        """The difusor's HTTP seam (one per run): pinning, trust, bounds, breaker, kept-alive connections."""
        def make():
            c = http.Client(self.profile.http.resolve, self.profile.http.ca_bundle, float(self.profile.http.timeout_s),
                            self.conv, bounded.Breaker(self.conv.fetch.breaker_after))
            self.difusor.on_close(c.close)
            return c
        return self._once("http:client", make)

    def endpoint(self) -> http.Endpoint:
        """The site's URLs and ports, without the pre-flight."""
        return replace(http.endpoint(self.profile), client=self.client(), conv=self.conv)

    def site(self) -> http.Endpoint:
        """The endpoint after the reachability pre-flight (a port accepts, main.json answers in time)."""
        ep = self.endpoint()
        self._once("http:reach", lambda: http.reach(
            ep, connect_timeout_s=min(self.conv.fetch.connect_s, ep.timeout_s),
            probe_url=http.main_json_url(ep, self.conv)))
        return ep

    def main_json(self, where: str = "edge", method: str = "GET") -> http.HttpObservation:
        """``main.json`` once per place and method: ``edge`` (the public URL), ``origin`` (``http.origin``,
        with the site's Host and SNI) or ``plain`` (the public name over plain HTTP, for an HTTPS site)."""
        ep = self.site()
        path = self.conv.main_json.path
        if where == "origin":
            self._need_origin(ep)
            return self._once(f"http:origin:main_json:{method}",
                              lambda: http.fetch_origin(ep, path, method, f"origin-{method}"))
        if where == "plain":
            url = http.main_json_url(ep, self.conv, ep.http_url)
            return self._once("http:edge:main_json:plain", lambda: http.fetch_site(ep, url, "GET", variant="edge-http"))
        url = http.main_json_url(ep, self.conv)
        return self._once(f"http:edge:main_json:{method}",
                          lambda: http.fetch_site(ep, url, method, variant=f"edge-{method}"))

    def main_json_conditional(self, where: str, validators: dict[str, str]) -> http.HttpObservation:
        """``main.json`` asked again with the validators of the first GET (``If-None-Match`` ...)."""
        ep = self.site()
        if where == "origin":
            self._need_origin(ep)
            return self._once("http:origin:main_json:cond", lambda: http.fetch_origin(
                ep, self.conv.main_json.path, "GET", "origin-conditional", headers=validators))
        url = http.main_json_url(ep, self.conv)
        return self._once("http:edge:main_json:cond", lambda: http.fetch_site(
            ep, url, "GET", variant="edge-conditional", headers=validators))

    def main_json_again(self, n: int) -> http.HttpObservation:
        """One more edge GET of main.json (never memoised: the point is a later answer)."""
        ep = self.site()
        return http.fetch_site(ep, http.main_json_url(ep, self.conv), "GET", variant=f"edge-GET#{n}")

    def root(self, where: str = "edge") -> http.HttpObservation:
        """``/`` at ``edge``, ``origin``, over plain HTTP (``plain``) or over HTTPS (``https``)."""
        ep = self.site()
        if where == "origin":
            self._need_origin(ep)
            return self._once("http:origin:root", lambda: http.fetch_origin(ep, "/", "GET", "origin-root"))
        if where == "plain":
            return self._once("http:plain:root", lambda: http.fetch_site(ep, ep.http_url, "GET", variant="http-root"))
        if where == "https" and ep.scheme != "https":
            return self._once("http:https:root",
                              lambda: http.fetch_site(ep, ep.https_url, "GET", variant="https-root"))
        return self._once("http:edge:root", lambda: http.fetch_site(ep, ep.site, "GET", variant="edge-root",
                                                                     sample_bytes=8192))

    def not_found(self) -> http.HttpObservation:
        """A path that cannot exist, at the origin when the profile names it, else at the edge (fresh)."""
        import secrets
        ep = self.site()
        missing = f"/prep-conformance-404-{secrets.token_hex(4)}"
        if ep.origin:
            return http.fetch_origin(ep, missing, "GET", "origin-404", sample_bytes=4096)
        return http.fetch_site(ep, http.url_for(ep.site, missing), "GET", variant="edge-404", sample_bytes=4096)

    def public(self, what: str) -> list[http.HttpObservation]:
        """The redirect chain a citizen follows to the site ``root`` or to ``main_json``."""
        ep = self.site()
        url = ep.site if what == "root" else http.main_json_url(ep, self.conv)
        return self._once(f"http:public:{what}", lambda: http.follow(ep, url, variant=f"public-{what}"))

    def landing_page(self) -> http.HttpObservation:
        """The landing page as a citizen gets it (redirects followed; up to 512 KiB of its HTML kept)."""
        ep = self.site()
        return self._once("page:analytics",
                          lambda: http.follow(ep, ep.site, variant="analytics", sample_bytes=512 * 1024)[-1])

    def dns(self):
        """The site's name through the profile's resolver (``dns:``); None when not configured."""
        d = self.profile.dns
        if d is None:
            return None
        from .probes import dns as dnsprobe
        host = self.site().host
        return self._once("dns:site", lambda: dnsprobe.lookup(host, d.nameserver, d.port,
                                                              min(5.0, self.profile.http.timeout_s)))

    def cdn_signals(self) -> tuple[list, tuple[str, ...]]:
        """What CDN detection reads: the edge's header lines (root and main.json) and the CNAME chain."""
        headers = [self.root("edge").headers, self.main_json("edge").headers]
        d = self.dns()
        return headers, (d.cname_chain if d is not None else ())

    def tls_scan(self):
        """One sslyze scan of the site's HTTPS port (``probes.https``)."""
        from .probes import https as tls
        ep = self.site()
        port = urlsplit(ep.https_url).port or 443
        return self._once(f"tls:{ep.host}:{port}", lambda: tls.scan(
            ep.host, port, ep.pin, ep.ca_bundle, timeout_s=min(5.0, ep.timeout_s),
            deadline_s=self.conv.fetch.tls_scan_s))

    def _need_origin(self, ep: http.Endpoint) -> None:
        if not ep.origin:
            raise ValueError("no http.origin in the profile")

    # ------------------------------------------------------------------------------ publication (I.4, I.6, I.9)
    def publication(self, progress=None):
        """The integrity pass: every manifest file of the paquete fetched once from the site and hashed."""
        from .probes import publication as pub
        self.site()
        return self._once("publication", lambda: pub.observe_profile(self.profile, progress=progress,
                                                                     conv=self.conv))

    def page(self):
        """The landing page and its same-site scripts (I.9: the corte shown)."""
        from .probes import publication as pub
        self.site()

        def make():
            with pub.site_lock(self.profile.target_url, exclusive=False), self.client().session(4, user_agent=pub.USER_AGENT) as s:
                return pub.fetch_page(s, self.profile.target_url, self.profile.http.timeout_s, conv=self.conv)
        return self._once("publication:page", make)

    def edge_pages(self):
        """The paquete's HTML pages as served, compared with the paquete (and the origin when named)."""
        from .probes import edge_rewrite
        obs = self.publication()
        return self._once("publication:edge_pages", lambda: edge_rewrite.observe_profile(self.profile, obs))

    # ------------------------------------------------------------------------------ SSH (II.1.a, II.1.c, II.1.d)
    def ssh(self):
        """The SSH/SFTP session, one login per run (closed at the end)."""
        from .probes import ssh as ssh_probe

        def make():
            s = ssh_probe.connect(self.profile.ssh, who=self.profile)
            self.difusor.on_close(s.close)
            return s
        return self._once("ssh", make)

    def os(self):
        from .probes import ssh as ssh_probe
        session = self.ssh()
        return self._once("ssh:os", lambda: ssh_probe.observe_os(session))

    def disk(self):
        from .probes import ssh as ssh_probe
        session = self.ssh()
        return self._once("ssh:disk", lambda: ssh_probe.observe_disk(session))

    def upload(self, stop_below_mb_s: float | None = None):
        """The timed SFTP upload (probe files always removed)."""
        from .probes import transfer as sftp_upload
        session = self.ssh()
        self.quiesce()
        return self._once("ssh:upload", lambda: sftp_upload.measure(session, stop_below_mb_s=stop_below_mb_s))

    # ------------------------------------------------------------------------------ CDN (II.2.b)
    def query_cache_key(self) -> dict[str, Any]:
        """Whether the edge's cache key includes the query string (evidence; its failure is evidence too)."""
        from .probes import cdn as purge_probe
        try:
            self.site()
        except Exception as exc:  # noqa: BLE001 - evidence only (the web checks report the fault)
            return {"key": "unknown", "error": f"{type(exc).__name__}: {exc}"}

        def make():
            with self.client().session(2) as s:
                try:
                    return purge_probe.query_cache_key(s, self.profile.target_url, "", self.profile.http.timeout_s)
                except Exception as exc:  # noqa: BLE001 - evidence only: never changes the verdict
                    return {"key": "unknown", "error": f"{type(exc).__name__}: {exc}"}
        return self._once("cdn:query_key", make)

    def drill(self):
        """The corte drill: upload the next corte, purge, time fresh content, restore (test site only)."""
        from . import paquete
        from .probes import cdn_drill as drill_probe
        from .probes import publication as pub
        self.quiesce()
        sftp = self.ssh().sftp()

        def make():
            pq = paquete.load_paquete(self.profile.package)
            with pub.site_lock(self.profile.target_url, exclusive=True), self.client().session(8) as s:
                return drill_probe.run_drill(drill_probe.target_from_profile(
                    self.profile, self.conv, sftp, s, self.endpoint()), pq)
        return self._once("cdn:drill", make)

    def purge_effect(self, token):
        """The configured purge sent for the site's root and its effect read from the cache headers."""
        from .probes import cdn as purge_probe
        prof, conv = self.profile, self.conv
        self.site()
        self.quiesce()

        def make():
            with self.client().session(4) as s:
                return purge_probe.purge_effect(
                    s, prof.target_url, "",
                    lambda paths: purge_probe.purge_for_profile(prof, paths, session=s, token=token),
                    prof.http.timeout_s, interval_s=conv.purge.poll_interval_s,
                    # asynchronous providers are watched up to the convocatoria's bound; PURGE/BAN/Fastly answer
                    wait_s=conv.purge.fresh_within_s if prof.cdn.purge.method in purge_probe.ASYNC_METHODS else 0.0,
                    follow=purge_probe.looker_for_profile(prof))
        return self._once("cdn:purge_effect", make)

    # ------------------------------------------------------------------------------ load (II.2.a) and burst
    def load_guard(self):
        """May the load and the burst run here (profile authorisation, loopback or the operator's flag)?"""
        from .probes import load
        from .rules import load as load_rules
        prof = self.profile
        return self._once("load:guard", lambda: load_rules.guard(
            prof.load.authorized, load.target_addresses(prof.target_url, prof.http.resolve),
            bool(self.difusor.options.get("allow_remote_load"))))

    def site_map(self):
        """The page, its scripts and main.json once before any load (the visitors' shopping list)."""
        from .probes import load
        prof = self.profile
        self.site()
        return self._once("load:site", lambda: load.site_map(
            prof.target_url, self.conv.main_json.path, prof.http.resolve, prof.http.ca_bundle,
            float(prof.http.timeout_s)))

    def paquete_secuencia(self) -> int | None:
        """The newest corte's secuencia from the profile's ``package:`` (None without one)."""
        if not self.profile.package:
            return None

        def read():
            from .paquete import load_paquete
            try:
                return load_paquete(self.profile.package).secuencia
            except (OSError, ValueError) as exc:
                raise CheckError(f"No se pudo leer el paquete: {exc}", f"The paquete could not be read: {exc}") from exc
        return self._once("load:paquete", read)

    def load_settings(self):
        """The load test's settings: the convocatoria's defaults with what the profile may change."""
        from .rules import load as load_rules
        return load_rules.settings(self.conv.load, self.profile.load, self.conv)

    def load_run(self):
        """Pre-flight, then the Locust run and the recovery after it: ``(observation, settings, site map)``.
        Runs only when ``load_guard()`` allowed it (the checks ask it first)."""
        from .probes import load
        site = self.site_map()
        self.quiesce()
        prof = self.profile

        def run():
            if site.page_status is None:
                raise CheckError(f"La página no respondió antes de la carga: {site.error}",
                                 f"The page did not answer before the load: {site.error}")
            s = self.load_settings()
            obs = load.run(load.plan_for(prof, self.conv, s, site), self._out_dir())
            after, status = load.settle(prof.target_url, prof.http.resolve, prof.http.ca_bundle,
                                        float(prof.http.timeout_s), self.conv.load.cooldown_s)
            return replace(obs, recovered_after_s=after, recovery_status=status), s, site
        return self._once("load:run", run)

    def burst(self):
        """The bounded DDoS burst (convocatoria ``ddos``), then the wait the site asked for and the recovery."""
        import time

        from .probes import ddos as burst_probe
        from .probes import load
        prof, c = self.profile, self.conv.ddos
        self.quiesce()

        def run():
            b = burst_probe.burst(
                prof.target_url, requests_n=c.burst_requests, concurrency=c.burst_concurrency, max_s=c.burst_max_s,
                stop_after_limited=c.stop_after_limited, resolve=prof.http.resolve, ca_bundle=prof.http.ca_bundle,
                timeout_s=float(prof.http.timeout_s))
            time.sleep(burst_probe.retry_after_s(b))      # the site said when to come back: respect it
            after, _status = load.settle(prof.target_url, prof.http.resolve, prof.http.ca_bundle,
                                         float(prof.http.timeout_s), self.conv.load.cooldown_s)
            return replace(b, recovered_after_s=after)
        return self._once("ddos:burst", run)

    def _out_dir(self) -> Path:
        import tempfile
        base = self.difusor.options.get("out_dir")
        if base:
            return Path(base) / "load" / self.difusor.id
        return Path(tempfile.mkdtemp(prefix=f"prep-load-{self.difusor.id}-"))

    # ------------------------------------------------------------------------------ documents and logs
    def memoria(self):
        """The delivered memoria técnica (``documents.memoria``), read once; None when not given."""
        path = self.profile.documents.memoria
        if not path:
            return None
        from .probes.memoria import observe_memoria
        return self._once("memoria:document", lambda: observe_memoria(path))

    def log_stats(self):
        """The four II.2.c figures from the difusor's own access logs (``analytics.access_logs``)."""
        from .memoria.build import log_stats
        a = self.profile.analytics
        return self._once("memoria:log_stats", lambda: log_stats([Path(p) for p in a.access_logs],
                                                                 self.conv, with_geo=False))

    def monitor_samples(self) -> list:
        """The difusor's own monitor log (``availability.monitor_log``: one JSON object a line), read
        whole each time it is asked; a line that is not a sample is ERROR naming the line."""
        import json

        from .rules.availability import Sample
        samples = []
        with open(self.profile.availability.monitor_log, encoding="utf-8-sig") as fh:   # a BOM is not a sample
            for n, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        samples.append(Sample.from_dict(json.loads(line)))
                    except (ValueError, KeyError, TypeError) as exc:
                        raise CheckError(f"bitácora del monitor ilegible en la línea {n}: {exc}",
                                         f"monitor log unreadable at line {n}: {exc}") from None
        return samples

    # ------------------------------------------------------------------------------ concurrency
    def should_prefetch(self, mode: str = "auto") -> bool:
        """``on``/``off`` as asked; ``auto``: on when there is something to overlap, a network wait (a site
        not pinned to loopback: the TLS scan's many handshakes hide behind the other observations) or a
        free core (fewer check processes than cores). Off for loopback sites when every core already runs
        a check process: there threads only take turns on the interpreter (bench/many_difusores.py)."""
        if mode in ("on", "off"):
            return mode == "on"
        import ipaddress
        import os
        pin = http.endpoint(self.profile).pin
        try:
            remote = not (pin and ipaddress.ip_address(pin).is_loopback)
        except ValueError:
            remote = True
        processes = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
        return remote or processes < (os.cpu_count() or 1)

    def prefetch(self, requirements: Iterable[str]) -> None:
        """Start, in threads, the read-only observations the difusor's collected checks will ask for.

        Only after the pre-flight passed: a silent site costs one pre-flight, as without prefetch. A
        failure here is kept for the check that asks (its first caller still gets the full reason)."""
        names = list(dict.fromkeys(n for r in requirements for n in PREFETCH.get(r, ())))
        if not names:
            return
        jobs = {
            "tls_scan": lambda: self.tls_scan() if self.endpoint().https_url else None,
            "plain_root": lambda: self.root("plain"),
            "edge_get": lambda: self.main_json("edge", "GET"),
            "edge_head": lambda: self.main_json("edge", "HEAD"),
            "origin_get": lambda: self.main_json("origin", "GET") if self.profile.http.origin else None,
            "origin_head": lambda: self.main_json("origin", "HEAD") if self.profile.http.origin else None,
            "plain_main_json": lambda: (self.main_json("plain") if http.endpoint(self.profile).scheme == "https"
                                        else None),
            "edge_root": lambda: self.root("edge"),
            "origin_root": lambda: self.root("origin") if self.profile.http.origin else None,
            "public_root": lambda: self.public("root"),
            "public_main_json": lambda: self.public("main_json"),
            "dns": self.dns,
        }

        def start():
            self.site()         # a failure ends the prefetch: the first check that asks reports it
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(PREFETCH_THREADS, thread_name_prefix=f"obs-{self.difusor.id}")
                for n in names:
                    self._pending.append(self._pool.submit(self._quietly, jobs[n]))
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(PREFETCH_THREADS, thread_name_prefix=f"obs-{self.difusor.id}")
            self._pending.append(self._pool.submit(self._quietly, start))

    def _quietly(self, job: Callable[[], Any]) -> None:
        """Run one prefetch job; its failure stays in ``Difusor.once`` for the check that asks."""
        try:
            with self.difusor.background():
                job()
        except BaseException:  # noqa: BLE001 - see above
            pass

    def quiesce(self) -> None:
        """Wait for the prefetched observations (before anything that changes or loads the site)."""
        while True:
            with self._lock:
                pending, self._pending = self._pending, []
            if not pending:
                return
            for f in pending:
                f.exception()

    def close(self) -> None:
        self.quiesce()
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
