"""Purge adapters for II.2.b: HTTP ``PURGE``/``BAN``, the Cloudflare purge API, or a configured command.

Every adapter returns a frozen ``PurgeObservation`` (accepted or not, what the CDN answered) and never
raises for a refusal or a transport fault: the rule decides. Secrets (the token named by ``token_env``)
go only into the request and are scrubbed from anything recorded.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import urljoin, urlsplit

import requests

from .. import cache_status
from .. import trust as trust_mod
from ..profile import PurgeConfig
from .bounded import BoundedSession

CLOUDFLARE_API = "https://api.cloudflare.com/client/v4"
CLOUDFLARE_MAX_FILES = 30          # per request, as Cloudflare documents for purge by URL
DETAIL_MAX = 400
ASYNC_METHODS = ("cloudfront", "akamai", "azure")   # accepted first, done later: watched up to the bound


@dataclass(frozen=True)
class CompletionPoll:
    """One look at the provider's own completion signal (CloudFront invalidation status, Azure async
    operation). ``t_s`` counts from the purge's answer; ``state``: ``in_progress`` | ``complete`` |
    ``failed`` | ``unknown`` (the look itself failed: ``detail`` says why)."""

    t_s: float
    state: str
    detail: str = ""


@dataclass(frozen=True)
class PurgeObservation:
    """One purge as requested and answered.

    Attributes:
        method: ``PURGE`` | ``BAN`` | ``cloudflare`` | ``command``.
        targets: what was asked to purge (URLs, ``everything``, the BAN expression or the argv).
        accepted: the CDN (or command) said it did it: HTTP 2xx / ``success: true`` / exit 0.
        statuses: HTTP status per request (or the exit code), in order.
        detail: the answer, shortened and scrubbed (Cloudflare ``errors``, response body, stderr).
        purge_ids: ids the CDN returned (Cloudflare ``result.id``).
        error: a transport fault (timeout, refused), when no answer came.
        elapsed_s: wall time of the purge request(s).
        at: ``time.monotonic()`` when the purge was answered (the drill measures from here).
        completion_signal: what the provider says about completion: ``status`` (it reports when the
            purge is done: CloudFront, Azure), ``estimate`` (an estimate only: Akamai's
            ``estimatedSeconds``), ``none`` (answered = done as the provider documents it: Fastly,
            PURGE/BAN) or None (not asked).
        completion: the looks at that signal; ``reported_complete_after_s`` when it said done.
        estimated_s: the provider's own estimate of the purge's duration (Akamai).
        not_sent: why nothing was sent (a refused endpoint or missing credentials), never a secret.
        poll_ref: what the adapter needs to look at the completion signal (ids, operation URL).
    """

    method: str
    targets: tuple[str, ...]
    accepted: bool
    statuses: tuple[int | None, ...] = ()
    detail: str = ""
    purge_ids: tuple[str, ...] = ()
    error: str | None = None
    elapsed_s: float = 0.0
    at: float = 0.0
    completion_signal: str | None = None
    completion: tuple[CompletionPoll, ...] = ()
    reported_complete_after_s: float | None = None
    estimated_s: float | None = None
    not_sent: str | None = None
    poll_ref: tuple[str, ...] = ()

    @property
    def completion_state(self) -> str | None:
        """The provider's last word: ``complete`` | ``in_progress`` | ``failed`` | ``unknown`` | None."""
        if self.reported_complete_after_s is not None:
            return "complete"
        return self.completion[-1].state if self.completion else None

    def to_evidence(self) -> dict[str, Any]:
        ev = {"method": self.method, "targets": list(self.targets[:20]), "target_count": len(self.targets),
              "accepted": self.accepted, "statuses": list(self.statuses), "detail": self.detail,
              "purge_ids": list(self.purge_ids), "error": self.error, "elapsed_s": self.elapsed_s}
        if self.completion_signal is not None:
            ev.update(completion_signal=self.completion_signal, completion_state=self.completion_state,
                      reported_complete_after_s=self.reported_complete_after_s, estimated_s=self.estimated_s,
                      completion=[{"t_s": c.t_s, "state": c.state, "detail": c.detail} for c in self.completion[:60]])
        if self.not_sent:
            ev["not_sent"] = self.not_sent
        return ev


def _scrub(text: str, secrets: Iterable[str | None]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    text = re.sub(r"(?i)(authorization:\s*bearer\s+)\S+", r"\1***", text)
    return text if len(text) <= DETAIL_MAX else text[:DETAIL_MAX - 3] + "..."


def _site_host(site_url: str) -> str:
    return urlsplit(site_url).netloc.rsplit("@", 1)[-1]


def http_purge(cfg: PurgeConfig, session: requests.Session, site_url: str, paths: Sequence[str] = (),
               token: str | None = None) -> PurgeObservation:
    """``PURGE`` (exact URL) or ``BAN`` (URL prefix) each path, or the configured URL itself when none.

    Requests carry the public site's ``Host`` so the cache objects the public sees are the ones hit.
    """
    headers = {"Host": _site_host(site_url)} if urlsplit(cfg.url).scheme == "http" else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    urls = [urljoin(cfg.url, "/" + p.lstrip("/")) for p in paths] or [cfg.url]
    if cfg.method == "PURGE":
        reqs = [(u, dict(headers)) for u in urls]
    else:
        # Varnish's usual BAN takes the request URL as a path prefix; X-Ban-Url carries the same as a
        # regular expression for VCLs that read a header instead.
        reqs = [(u, {**headers, "X-Ban-Url": "^" + re.escape(urlsplit(u).path or "/"),
                     "X-Ban-Host": _site_host(site_url)}) for u in urls]
    targets = tuple(urls)
    statuses: list[int | None] = []
    details: list[str] = []
    t0 = time.perf_counter()
    error = None
    for url, h in reqs:
        try:
            r = session.request(cfg.method, url, headers=h, timeout=cfg.timeout_s, allow_redirects=False)
            statuses.append(r.status_code)
            if not 200 <= r.status_code < 300:
                details.append(f"{url}: HTTP {r.status_code} {r.reason}: {r.text[:120]}")
        except requests.RequestException as exc:
            statuses.append(None)
            error = f"{type(exc).__name__}: {exc}"
            break
    elapsed = round(time.perf_counter() - t0, 4)
    accepted = error is None and all(s is not None and 200 <= s < 300 for s in statuses)
    return PurgeObservation(cfg.method, targets, accepted, tuple(statuses), _scrub("; ".join(details), [token]),
                            (), _scrub(error, [token]) if error else None, elapsed, time.monotonic())


def cloudflare_purge(cfg: PurgeConfig, session: requests.Session, site_url: str, paths: Sequence[str] = (),
                     token: str | None = None) -> PurgeObservation:
    """``POST {api}/zones/{zone_id}/purge_cache`` with ``purge_everything`` or ``files`` (≤ 30 per request).

    Accepted when every reply is HTTP 200 with ``{"success": true}``; ``errors`` are kept as the detail.
    """
    api = (cfg.api_base or CLOUDFLARE_API).rstrip("/")
    url = f"{api}/zones/{cfg.zone_id}/purge_cache"
    base = site_url if site_url.endswith("/") else site_url + "/"
    files = [urljoin(base, p.lstrip("/")) for p in paths]
    bodies = ([{"files": files[i:i + CLOUDFLARE_MAX_FILES]} for i in range(0, len(files), CLOUDFLARE_MAX_FILES)]
              if files else [{"purge_everything": True}])
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    statuses: list[int | None] = []
    ids: list[str] = []
    details: list[str] = []
    error = None
    ok = True
    t0 = time.perf_counter()
    for body in bodies:
        try:
            r = session.post(url, data=json.dumps(body), headers=headers, timeout=cfg.timeout_s,
                             allow_redirects=False)
        except requests.RequestException as exc:
            statuses.append(None)
            error, ok = f"{type(exc).__name__}: {exc}", False
            break
        statuses.append(r.status_code)
        try:
            doc = r.json()
        except ValueError:
            doc = None
        if not isinstance(doc, Mapping):
            ok = False
            details.append(f"HTTP {r.status_code}: reply is not Cloudflare JSON: {r.text[:120]!r}")
            continue
        errs = doc.get("errors") or []
        if errs:
            details.append("; ".join(f"{e.get('code')}: {e.get('message')}" if isinstance(e, Mapping) else str(e)
                                     for e in errs))
        res = doc.get("result")
        if isinstance(res, Mapping) and res.get("id"):
            ids.append(str(res["id"]))
        if not (r.status_code == 200 and doc.get("success") is True):
            ok = False
            if not errs:
                details.append(f"HTTP {r.status_code}, success={doc.get('success')!r}")
    elapsed = round(time.perf_counter() - t0, 4)
    targets = tuple(files) if files else ("everything",)
    return PurgeObservation("cloudflare", targets, ok and error is None, tuple(statuses),
                            _scrub("; ".join(details), [token]), tuple(ids),
                            _scrub(error, [token]) if error else None, elapsed, time.monotonic())


def command_purge(cfg: PurgeConfig, site_url: str, paths: Sequence[str] = (),
                  token: str | None = None, trust: trust_mod.Trust | None = None) -> PurgeObservation:
    """Run the configured command (no shell); the paths go in ``PREP_PURGE_PATHS``/``PREP_PURGE_URLS``.

    Only with the operator's consent (``trust``, ``--trust-profile``): else ``TrustRefused``, nothing run.
    """
    base = site_url if site_url.endswith("/") else site_url + "/"
    env = {**os.environ, "PREP_SITE_URL": site_url,
           "PREP_PURGE_PATHS": "\n".join("/" + p.lstrip("/") for p in paths),
           "PREP_PURGE_URLS": "\n".join(urljoin(base, p.lstrip("/")) for p in paths)}
    argv = list(cfg.command or [])
    t0 = time.perf_counter()
    try:
        cp = trust_mod.run(trust, argv, "purga / purge", env=env, capture_output=True, timeout=cfg.timeout_s,
                           check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return PurgeObservation("command", tuple(argv), False, (None,), "",
                                error=_scrub(f"{type(exc).__name__}: {exc}", [token]),
                                elapsed_s=round(time.perf_counter() - t0, 4), at=time.monotonic())
    out = (cp.stderr or cp.stdout or b"").decode("utf-8", errors="replace").strip()
    return PurgeObservation("command", tuple(argv), cp.returncode == 0, (cp.returncode,), _scrub(out, [token]),
                            elapsed_s=round(time.perf_counter() - t0, 4), at=time.monotonic())


def purge(cfg: PurgeConfig, site_url: str, paths: Sequence[str] = (), *, session: requests.Session | None = None,
          token: str | None = None, trust: trust_mod.Trust | None = None) -> PurgeObservation:
    """Purge ``paths`` (site-relative; empty = everything) through the configured adapter.

    ``token`` must come from ``trust.secret`` (``authorize`` does it for a profile); a ``command`` runs
    only with ``trust`` granting it."""
    from . import cdn_providers as pp
    if cfg.method in pp.ADAPTERS:
        return pp.provider_purge(None, paths, cfg, site_url)[0]
    if cfg.method == "command":
        return command_purge(cfg, site_url, paths, token, trust)
    own = session is None
    s = session or BoundedSession()
    if own:
        s.trust_env = False
    try:
        if cfg.method == "cloudflare":
            return cloudflare_purge(cfg, s, site_url, paths, token)
        return http_purge(cfg, s, site_url, paths, token)
    finally:
        if own:
            s.close()


def destination(cfg: PurgeConfig) -> str | None:
    """Where the purge request (and its token) goes: the API or purge URL; None for a local command."""
    if cfg.method == "cloudflare":
        return cfg.api_base or CLOUDFLARE_API
    if cfg.method == "fastly":
        return cfg.api_base or "https://api.fastly.com"
    if cfg.method == "azure":
        return cfg.api_base or "https://management.azure.com"
    if cfg.method in ("PURGE", "BAN"):
        return cfg.url
    return None


def authorize(profile) -> str | None:
    """Pre-flight of the profile's purge, before anything changes: its command may run and its token may be
    read and sent to its destination (``trust``); returns the token. ``TrustRefused`` otherwise."""
    cfg = profile.cdn.purge
    if cfg is None:
        raise ValueError("profile has no cdn.purge")
    from . import cdn_providers as pp
    if cfg.method in pp.ADAPTERS:           # the provider's own API: its credentials through trust, pre-flight
        pp.credentials(profile, cfg)
        return None
    if cfg.method == "command" and not trust_mod.may_run(profile):
        trust_mod.run(profile, list(cfg.command or []), "purga / purge")     # raises TrustRefused, runs nothing
    return trust_mod.secret(profile, cfg.token_env, destination(cfg), "token de purga / purge token",
                            method=cfg.method)


def purge_for_profile(profile, paths: Sequence[str] = (), session: requests.Session | None = None,
                      token: str | None = None) -> PurgeObservation:
    """Purge with the profile's ``cdn.purge``; its token obtained through ``trust.secret`` (``authorize``)."""
    cfg = profile.cdn.purge
    if cfg is None:
        raise ValueError("profile has no cdn.purge")
    from . import cdn_providers as pp
    if cfg.method in pp.ADAPTERS:           # the provider's own API (credentials read there, through trust)
        return pp.provider_purge(profile, paths)[0]
    token = token if token is not None else authorize(profile)
    t = trust_mod.of(profile)
    if session is None and cfg.method != "command":
        from .publication import session_for
        with session_for(profile, pool=4) as s:
            return purge(cfg, profile.target_url, paths, session=s, token=token, trust=t)
    return purge(cfg, profile.target_url, paths, session=session, token=token, trust=t)


def purge_refusal(profile) -> str | None:
    """Why the profile's provider purge cannot be sent (no consent for ``api_base``, no credentials), or None.
    Asked before the drill changes anything."""
    from . import cdn_providers as pp
    cfg = profile.cdn.purge
    if cfg is None or cfg.method not in pp.ADAPTERS:
        return None
    ad = pp.adapter_for(profile)
    return ad if isinstance(ad, str) else None


def looker_for_profile(profile):
    """``fn(obs) -> obs`` taking one more look at the provider's completion signal, or None (no signal)."""
    from . import cdn_providers as pp
    cfg = profile.cdn.purge
    if cfg is None or cfg.method not in pp.ADAPTERS:
        return None
    ad = pp.adapter_for(profile)
    if isinstance(ad, str) or ad.signal == "none":
        return None
    return lambda obs: pp.look(ad, obs)


# ---------------------------------------------------------------------------------------------- effect


def cache_state(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> str | None:
    """``hit`` | ``miss`` | None (nothing says) for one response, as ``cache_status.read`` defines it."""
    state = cache_status.read(headers).state
    return None if state == cache_status.UNKNOWN else state


@dataclass(frozen=True)
class PurgeEffect:
    """Whether a purge evicted a cached object, seen from outside without changing any content.

    Attributes:
        path: the object (a cacheable file of the paquete); ``before``/``after`` its cache state
            (``hit``/``miss``/None) right before and right after the purge; ``headers_*`` the raw cache
            headers; ``measurable`` False when the object was never seen cached.
        tls_unverified: why the site's certificate did not verify, when the object was read without
            verification (II.2.d.https judges the certificate; the purge itself always verifies).
    """

    path: str
    before: str | None
    after: str | None
    headers_before: Mapping[str, str] = field(default_factory=dict)
    headers_after: Mapping[str, str] = field(default_factory=dict)
    purge: PurgeObservation | None = None
    error: str | None = None
    tls_unverified: str | None = None
    first_miss_after_s: float | None = None     # first look that missed, from the purge's answer
    waited_s: float = 0.0                       # how long the object was watched after the purge
    cdn_cache_control: Mapping[str, str] = field(default_factory=dict)   # CDN-/Surrogate-Control seen
    renewed: bool = False       # a hit after the purge on another copy (evicted, re-stored by someone else)

    @property
    def measurable(self) -> bool:
        return self.before == "hit" and self.after is not None and self.purge is not None and self.purge.accepted

    @property
    def evicted(self) -> bool | None:
        return (self.after == "miss" or self.renewed) if self.measurable else None

    def to_evidence(self) -> dict[str, Any]:
        return {"path": self.path, "before": self.before, "after": self.after,
                "headers_before": dict(self.headers_before), "headers_after": dict(self.headers_after),
                "purge": self.purge.to_evidence() if self.purge else None, "error": self.error,
                "first_miss_after_s": self.first_miss_after_s, "waited_s": self.waited_s,
                **({"renewed": True} if self.renewed else {}),
                **({"edge_cache_control": dict(self.cdn_cache_control)} if self.cdn_cache_control else {}),
                **({"tls_unverified": self.tls_unverified} if self.tls_unverified else {})}


_CACHE_HEADERS = cache_status.CACHE_HEADERS + ("via", "cache-control", "cdn-cache-control", "surrogate-control")


def purge_effect(session: requests.Session, site_url: str, path: str, do_purge, timeout: float = 10.0,
                 wait_s: float = 0.0, interval_s: float = 0.5, follow=None) -> PurgeEffect:
    """GET ``path`` twice (cache it), purge it, GET again: a hit before and a miss after means evicted.

    When ``Age`` is the only cache signal (``cache_status.needs_age_wait``) the second GET waits a second
    (and is repeated): ``Age`` counts whole seconds. Explicit signals (``X-Cache: HIT``) need no wait.

    An asynchronous purge (CloudFront, Akamai, Azure) is watched up to ``wait_s`` (the convocatoria's
    bound): the object is read every ``interval_s`` until it misses, and ``follow(obs)`` looks at the
    provider's own completion signal alongside (``follow(obs)``), so both timelines are kept.
    When the site's certificate does not verify, the object is read without verification (noted in
    ``tls_unverified``); the purge request itself goes through ``do_purge`` unchanged.
    """
    from .publication import fetch_verifying_or_not

    base = site_url if site_url.endswith("/") else site_url + "/"
    url = urljoin(base, path.lstrip("/"))
    first, verify = fetch_verifying_or_not(session, url, path, timeout, keep_body=False)
    tls = first.tls_unverified

    def look() -> dict[str, str]:
        r = session.get(url, timeout=timeout, allow_redirects=False, verify=verify)
        r.content  # drain
        return {k: r.headers[k] for k in r.headers if k.lower() in _CACHE_HEADERS}

    renewed = False
    try:
        if first.status is None:
            look()                # no answer: the error as requests reports it
        hb = look()
        if cache_status.needs_age_wait([cache_status.read(hb)]):
            time.sleep(1.1)       # only Age can tell, and it counts whole seconds
            hb = look()
        obs = do_purge([path])
        ha = look()
        # a hit on another copy than before: evicted, and stored again by someone else in between
        renewed = cache_state(hb) == "hit" and cache_state(ha) == "hit" and cache_status.replaced(hb, ha)
        first_miss = 0.0 if cache_state(ha) == "miss" or renewed else None
        t0 = obs.at or time.monotonic()
        deadline = t0 + wait_s
        while obs.accepted and first_miss is None and cache_state(hb) == "hit" \
                and time.monotonic() + interval_s <= deadline:
            time.sleep(interval_s)
            if follow is not None:
                obs = follow(obs)
            t = round(time.monotonic() - t0, 4)
            ha = look()
            if cache_state(ha) == "miss" or (cache_state(ha) == "hit" and cache_status.replaced(hb, ha)):
                renewed = cache_state(ha) == "hit"
                first_miss = t
        while follow is not None and obs.accepted and obs.completion_signal == "status" \
                and obs.completion_state not in ("complete", "failed") and time.monotonic() + interval_s <= deadline:
            obs = follow(obs)
            if obs.completion_state not in ("complete", "failed"):
                time.sleep(interval_s)
        waited = round(time.monotonic() - t0, 4)
    except requests.RequestException as exc:
        return PurgeEffect(path, None, None, error=f"{type(exc).__name__}: {exc}", tls_unverified=tls)
    edge_cc = {k: v for k, v in hb.items() if k.lower() in ("cdn-cache-control", "surrogate-control")}
    return PurgeEffect(path, cache_state(hb), cache_state(ha), hb, ha, obs, tls_unverified=tls,
                       first_miss_after_s=first_miss, waited_s=waited, cdn_cache_control=edge_cc, renewed=renewed)


def query_cache_key(session: requests.Session, site_url: str, path: str = "", timeout: float = 10.0
                    ) -> dict[str, Any]:
    """Does the edge's cache key include the query string? What a cache-busting visitor (``?t=...``) gets.

    GET the object twice (cached), then twice with a query never sent before: a HIT on its first request
    means the key ignores the query (``?v=`` does not bypass the cache: a stale object stays stale for
    everyone); a MISS then a HIT means it includes it (every new query reaches the origin).
    """
    import uuid

    from .publication import fetch_verifying_or_not
    base = site_url if site_url.endswith("/") else site_url + "/"
    url = urljoin(base, path.lstrip("/"))
    busted = f"{url}{'&' if '?' in url else '?'}prep-cb={uuid.uuid4().hex[:12]}"
    _, verify = fetch_verifying_or_not(session, url, path, timeout, keep_body=False)

    def state(u: str) -> str | None:
        r = session.get(u, timeout=timeout, allow_redirects=False, verify=verify)
        r.content
        return cache_state({k: r.headers[k] for k in r.headers if k.lower() in _CACHE_HEADERS})

    try:
        state(url)
        plain = state(url)
        first, second = state(busted), state(busted)
    except requests.RequestException as exc:
        return {"key": "unknown", "error": f"{type(exc).__name__}: {exc}"}
    if plain == "hit" and first == "hit":
        key = "ignores-query"
    elif first == "miss" and second == "hit":
        key = "includes-query"
    else:
        key = "unknown"
    return {"key": key, "path": "/" + path.lstrip("/"), "plain": plain, "first_with_query": first,
            "second_with_query": second}
