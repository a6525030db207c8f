"""II.2.b purge through the commercial CDNs' own APIs: CloudFront, Fastly, Akamai Fast Purge, Azure Front Door.

One small interface for every provider (``PurgeAdapter``): ``send(paths)`` asks for the purge and
returns a ``PurgeObservation`` (accepted? the provider's request id); ``check(obs)`` takes one look at
the provider's own completion signal, when it has one. ``follow`` polls that signal; what the public
site serves is measured apart (the drill, ``purge.purge_effect``).

Each adapter declares the API host(s) its credentials may go to (``API_HOSTS``) and reads them in ONE
place (``credentials``): environment variables or credentials files the operator keeps, never the
profile. ``api_base`` (a stand-in's address) is honoured only with the operator's consent
(``api_base_allowed``): a profile alone cannot aim the checking machine's credentials elsewhere.

Providers and their maintained libraries:
* CloudFront: ``boto3`` ``create_invalidation`` (unique ``CallerReference``), ``get_invalidation``
  until ``Completed``;
* Fastly: the ``fastly`` package (``PurgeApi``): by URL or surrogate key, hard or soft
  (``Fastly-Soft-Purge: 1``); Fastly documents purges done on answer (~150 ms): no status to poll;
* Akamai: Fast Purge v3 ``POST /ccu/v3/{invalidate|delete}/{url|cpcode|tag}/{network}`` signed with
  EdgeGrid (``edgegrid-python``, the ``.edgerc`` the profile names); the answer's ``estimatedSeconds``
  is the only completion signal v3 gives;
* Azure Front Door (Standard/Premium): ``POST .../afdEndpoints/{name}/purge`` answered ``202`` with
  ``Azure-AsyncOperation``/``Location`` polled until ``Succeeded``. Its documented REST shape with
  ``requests``: the SDK (``azure-mgmt-cdn``) refuses bearer tokens over plain HTTP (every stand-in) and
  its credentials library reaches Microsoft's login hosts.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import quote, urljoin, urlsplit

import requests

from .. import trust as trust_mod
from ..profile import PurgeConfig
from .bounded import BoundedSession
from .cdn import CompletionPoll, PurgeObservation, _scrub

# Where each provider's credentials may be sent (suffix match on the host name).
API_HOSTS: dict[str, tuple[str, ...]] = {
    "cloudfront": ("cloudfront.amazonaws.com",),
    "fastly": ("api.fastly.com",),
    "akamai": (".akamaiapis.net",),
    "azure": ("management.azure.com",),
}
AZURE_API = "https://management.azure.com"
AZURE_API_VERSION = "2024-02-01"
FASTLY_API = "https://api.fastly.com"
ALLOW_API_BASE_ENV = "PREP_ALLOW_API_BASE"     # operator consent (environment), never the profile
CLOUDFRONT_MAX_PATHS = 3000                      # per invalidation batch (CloudFront quota)
AKAMAI_MAX_BODY = 50_000                         # Fast Purge v3 request body limit (bytes)


# ---------------------------------------------------------------------------------------------- consent


def api_base_allowed(profile=None) -> bool:
    """The operator lets this run send credentials to a profile's ``api_base`` (a stand-in): by
    ``--trust-profile`` (the profile vouched for) or ``PREP_ALLOW_API_BASE=1`` in the operator's
    environment. A profile alone never can."""
    if os.environ.get(ALLOW_API_BASE_ENV) == "1":
        return True
    return trust_mod.of(profile).profiles


def host_allowed(method: str, url: str, api_base: str | None = None) -> bool:
    """``url`` goes to the provider's API host for ``method`` (or to the allowed ``api_base``'s host)."""
    host = (urlsplit(url).hostname or "").lower()
    if api_base and host == (urlsplit(api_base).hostname or "").lower():
        return True
    return urlsplit(url).scheme == "https" and any(
        host == h.lstrip(".") or (h.startswith(".") and host.endswith(h)) for h in API_HOSTS.get(method, ()))


# ---------------------------------------------------------------------------------------------- credentials


@dataclass(frozen=True)
class Credentials:
    """What an adapter needs to authenticate; ``secrets`` lists every secret value (for scrubbing).
    ``missing`` says what could not be read (no value is ever shown)."""

    values: Mapping[str, Any]
    secrets: tuple[str, ...] = ()
    missing: str | None = None


def credentials(profile, cfg: PurgeConfig) -> Credentials:
    """The ONE place purge adapters read secrets: the environment variable ``token_env`` names, the
    ``.edgerc`` file (Akamai), boto3's own chain or the ``aws_profile`` of the AWS credentials file."""
    m = cfg.method
    if m in ("fastly", "azure"):
        if cfg.token_file:
            try:
                with open(cfg.token_file, encoding="utf-8") as f:
                    token = f.read(4096).strip()
            except OSError as exc:
                return Credentials({}, (), f"token_file: {type(exc).__name__}")
            if not token:
                return Credentials({}, (), "token_file está vacío / token_file is empty")
            return Credentials({"token": token}, (token,))
        # a profile's token only through trust.secret (consent, and only to this provider's API host);
        # ``profile=None`` is code configuring an adapter itself (tests, bench)
        dest = cfg.api_base or (FASTLY_API if m == "fastly" else AZURE_API)
        token = (trust_mod.secret(profile, cfg.token_env, dest, "token de purga / purge token", method=m)
                 if profile is not None else os.environ.get(cfg.token_env or ""))
        if not token:
            return Credentials({}, (), f"la variable de entorno {cfg.token_env} no está definida / "
                                       f"environment variable {cfg.token_env} is not set")
        return Credentials({"token": token}, (token,))
    if m == "akamai":
        from akamai.edgegrid import EdgeRc
        try:
            rc = EdgeRc(cfg.edgerc)
            vals = {k: rc.get(cfg.edgerc_section, k) for k in ("client_token", "client_secret", "access_token", "host")}
            vals["max_body"] = rc.getint(cfg.edgerc_section, "max_body") or 131072
        except Exception as exc:  # noqa: BLE001 - configparser's errors name the section, never a value
            return Credentials({}, (), f".edgerc [{cfg.edgerc_section}]: {type(exc).__name__}")
        return Credentials(vals, tuple(v for k, v in vals.items() if k in ("client_token", "client_secret",
                                                                          "access_token") and v))
    if m == "cloudfront":
        if profile is not None and not trust_mod.of(profile).profiles and cfg.aws_credentials_file:
            return _aws_file_only(cfg)        # the applicant's own file (confined to its folder), nothing else
        if profile is not None and not trust_mod.of(profile).profiles:
            # boto3's chain reads this machine's AWS credentials (environment, ~/.aws): the operator's consent
            es, en = trust_mod._allow_with()
            raise trust_mod.TrustRefused(
                f"No se leyeron ni se enviaron credenciales de AWS de esta máquina (purga CloudFront): un perfil no "
                f"confiable no puede pedirlas; {es}.",
                f"This machine's AWS credentials were neither read nor sent (CloudFront purge): an untrusted "
                f"profile may not ask for them; {en}.", refused="secret", secret_name="AWS",
                allow_with=trust_mod.FLAG)
        import boto3
        import botocore.exceptions
        import botocore.session
        try:
            core = botocore.session.Session()
            if cfg.aws_credentials_file:
                core.set_config_variable("credentials_file", cfg.aws_credentials_file)
            if cfg.aws_profile:
                core.set_config_variable("profile", cfg.aws_profile)
            session = boto3.session.Session(botocore_session=core)
            creds = session.get_credentials()
        except botocore.exceptions.BotoCoreError as exc:
            return Credentials({}, (), f"AWS: {type(exc).__name__}")
        if creds is None:
            return Credentials({}, (), "sin credenciales de AWS (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY o "
                                       "aws_profile) / no AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
                                       "or aws_profile)")
        frozen = creds.get_frozen_credentials()
        return Credentials({"session": session}, tuple(s for s in (frozen.secret_key, frozen.token,
                                                                    frozen.access_key) if s))
    return Credentials({})


def _aws_file_only(cfg: PurgeConfig) -> Credentials:
    """AWS keys from ``aws_credentials_file`` alone (section ``aws_profile`` or ``default``): boto3's own chain
    would prefer this machine's ``AWS_*`` variables, which an untrusted profile may not have sent."""
    import configparser

    import boto3
    section = cfg.aws_profile or "default"
    cp = configparser.RawConfigParser()
    try:
        with open(cfg.aws_credentials_file, encoding="utf-8") as f:
            cp.read_file(f)
        key, secret = cp.get(section, "aws_access_key_id"), cp.get(section, "aws_secret_access_key")
        token = cp.get(section, "aws_session_token", fallback=None)
    except (OSError, configparser.Error) as exc:
        return Credentials({}, (), f"aws_credentials_file [{section}]: {type(exc).__name__}")
    session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
                                    region_name="us-east-1")
    return Credentials({"session": session}, tuple(s for s in (secret, token, key) if s))


# ---------------------------------------------------------------------------------------------- interface


def _site_urls(site_url: str, paths: Sequence[str]) -> list[str]:
    base = site_url if site_url.endswith("/") else site_url + "/"
    return [urljoin(base, p.lstrip("/")) for p in paths] or [base]


def _site_paths(paths: Sequence[str]) -> list[str]:
    return sorted({"/" + p.lstrip("/") for p in paths}) or ["/*"]


class PurgeAdapter:
    """``send`` a purge, ``check`` the provider's completion signal once (None: it has none)."""

    method = "?"
    signal = "none"

    def __init__(self, cfg: PurgeConfig, site_url: str, creds: Credentials, api_base: str | None = None):
        self.cfg, self.site_url, self.creds, self.api_base = cfg, site_url, creds, api_base

    def send(self, paths: Sequence[str]) -> PurgeObservation:
        raise NotImplementedError

    def check(self, obs: PurgeObservation) -> tuple[str, str] | None:
        return None

    def scrub(self, text: str) -> str:
        return _scrub(text, self.creds.secrets)

    def _obs(self, targets, accepted, statuses=(), detail="", ids=(), error=None, t0=None, **kw) -> PurgeObservation:
        return PurgeObservation(self.method, tuple(targets), accepted, tuple(statuses), self.scrub(detail),
                                tuple(ids), self.scrub(error) if error else None,
                                round(time.perf_counter() - t0, 4) if t0 else 0.0, time.monotonic(),
                                completion_signal=self.signal, **kw)


def not_sent(method: str, targets: Sequence[str], why: str) -> PurgeObservation:
    return PurgeObservation(method, tuple(targets), False, (), "", (), None, 0.0, time.monotonic(),
                            completion_signal=None, not_sent=why)


def follow(adapter: PurgeAdapter, obs: PurgeObservation, until: float, interval_s: float) -> PurgeObservation:
    """Poll the provider's completion signal until it says done/failed or ``time.monotonic() > until``."""
    if not obs.accepted or adapter.signal != "status":
        return obs
    while True:
        obs = look(adapter, obs)
        if obs.completion_state in ("complete", "failed") or time.monotonic() + interval_s > until:
            return obs
        time.sleep(interval_s)


def look(adapter: PurgeAdapter, obs: PurgeObservation) -> PurgeObservation:
    """One look at the completion signal, appended to ``obs.completion`` (no-op once final)."""
    if not obs.accepted or obs.completion_state in ("complete", "failed"):
        return obs
    t = round(time.monotonic() - obs.at, 4)
    if adapter.signal == "estimate":
        if obs.estimated_s is not None and t >= obs.estimated_s:
            return replace(obs, completion=obs.completion + (CompletionPoll(obs.estimated_s, "complete",
                                                                            "estimatedSeconds"),),
                           reported_complete_after_s=obs.estimated_s)
        return obs
    try:
        got = adapter.check(obs)
    except Exception as exc:  # noqa: BLE001 - a failed look is recorded, never raised
        got = ("unknown", f"{type(exc).__name__}: {exc}")
    if got is None:
        return obs
    state, detail = got
    poll = CompletionPoll(t, state, adapter.scrub(detail)[:200])
    return replace(obs, completion=obs.completion + (poll,),
                   reported_complete_after_s=t if state == "complete" else obs.reported_complete_after_s)


# ---------------------------------------------------------------------------------------------- CloudFront


class CloudFrontAdapter(PurgeAdapter):
    method, signal = "cloudfront", "status"

    _cf = None

    def _client(self):
        if self._cf is not None:
            return self._cf
        import botocore.config
        session = self.creds.values["session"]
        conf = botocore.config.Config(connect_timeout=self.cfg.timeout_s, read_timeout=self.cfg.timeout_s,
                                      retries={"max_attempts": 2, "mode": "standard"})
        self._cf = session.client("cloudfront", endpoint_url=self.api_base, config=conf,
                                  region_name=session.region_name or "us-east-1")
        return self._cf

    def send(self, paths: Sequence[str]) -> PurgeObservation:
        import botocore.exceptions
        items = _site_paths(paths)[:CLOUDFRONT_MAX_PATHS]
        ref = f"prep-conformance-{uuid.uuid4()}"        # unique: CloudFront dedupes a repeated reference
        t0 = time.perf_counter()
        try:
            r = self._client().create_invalidation(
                DistributionId=self.cfg.distribution_id,
                InvalidationBatch={"Paths": {"Quantity": len(items), "Items": items}, "CallerReference": ref})
        except botocore.exceptions.ClientError as exc:
            err = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            return self._obs(items, False, (status,), f"{err.get('Code')}: {err.get('Message')}", t0=t0)
        except botocore.exceptions.BotoCoreError as exc:
            return self._obs(items, False, (None,), error=f"{type(exc).__name__}: {exc}", t0=t0)
        inv = r.get("Invalidation", {})
        status = r.get("ResponseMetadata", {}).get("HTTPStatusCode")
        ok = status in (200, 201) and bool(inv.get("Id"))
        obs = self._obs(items, ok, (status,), f"Status {inv.get('Status')}", (inv.get("Id", ""),), t0=t0,
                        poll_ref=(inv.get("Id", ""), ref))
        if ok and str(inv.get("Status", "")).lower() == "completed":
            obs = replace(obs, completion=(CompletionPoll(0.0, "complete", "Completed"),),
                          reported_complete_after_s=0.0)
        return obs

    def check(self, obs: PurgeObservation) -> tuple[str, str]:
        r = self._client().get_invalidation(DistributionId=self.cfg.distribution_id, Id=obs.poll_ref[0])
        status = str(r.get("Invalidation", {}).get("Status", ""))
        return ("complete" if status.lower() == "completed" else "in_progress"), f"Status {status}"


# ---------------------------------------------------------------------------------------------- Fastly


class FastlyAdapter(PurgeAdapter):
    """Surrogate keys (``tags``) or each URL; ``soft`` sends ``Fastly-Soft-Purge: 1``."""

    method, signal = "fastly", "none"

    def _api(self):
        import fastly
        from fastly.api.purge_api import PurgeApi
        conf = fastly.Configuration(host=(self.api_base or FASTLY_API).rstrip("/"))
        conf.api_token = self.creds.values["token"]
        return fastly.ApiClient(conf), PurgeApi

    def send(self, paths: Sequence[str]) -> PurgeObservation:
        import fastly
        client, Api = self._api()
        api = Api(client)
        kw: dict[str, Any] = {"_request_timeout": self.cfg.timeout_s}
        if self.cfg.soft:
            kw["fastly_soft_purge"] = 1
        if self.cfg.tags:
            targets = [f"key:{k}" for k in self.cfg.tags]
            calls = [lambda k=k: api.purge_tag(self.cfg.service_id, k, **kw) for k in self.cfg.tags]
        else:
            urls = _site_urls(self.site_url, paths)
            targets = urls
            # the API takes the cached URL without its scheme: host/path
            calls = [lambda u=u: api.purge_single_url(u.split("://", 1)[-1], **kw) for u in urls]
        ids, statuses, details, error = [], [], [], None
        t0 = time.perf_counter()
        with client:
            for call in calls:
                try:
                    r = call()
                    statuses.append(200)
                    d = r.to_dict() if hasattr(r, "to_dict") else dict(r)
                    if d.get("id"):
                        ids.append(str(d["id"]))
                    if d.get("status") not in (None, "ok"):
                        details.append(f"status {d.get('status')}")
                except fastly.ApiException as exc:
                    statuses.append(exc.status)
                    details.append(f"HTTP {exc.status} {exc.reason}: {(exc.body or '')[:120]}")
                    if exc.status in (401, 403):
                        break                   # refused credentials: the next ones would be too
                except Exception as exc:  # noqa: BLE001 - urllib3 transport faults come through here
                    statuses.append(None)
                    error = f"{type(exc).__name__}: {exc}"
                    break
        ok = error is None and all(s == 200 for s in statuses) and not details
        mode = "soft" if self.cfg.soft else "hard"
        return self._obs(targets, ok, statuses, "; ".join(details) or f"{mode} purge", ids, error, t0,
                         completion=((CompletionPoll(0.0, "complete", f"{mode}: done on answer"),) if ok else ()),
                         reported_complete_after_s=0.0 if ok else None)


# ---------------------------------------------------------------------------------------------- Akamai


class AkamaiAdapter(PurgeAdapter):
    """Fast Purge v3; EdgeGrid-signed; ``estimatedSeconds`` is the completion estimate."""

    method, signal = "akamai", "estimate"

    def base(self) -> str:
        return (self.api_base or f"https://{self.creds.values['host']}").rstrip("/")

    def send(self, paths: Sequence[str]) -> PurgeObservation:
        from akamai.edgegrid import EdgeGridAuth
        v = self.creds.values
        if self.cfg.cpcodes:
            kind, objects = "cpcode", list(self.cfg.cpcodes)
        elif self.cfg.tags:
            kind, objects = "tag", list(self.cfg.tags)
        else:
            kind, objects = "url", _site_urls(self.site_url, paths)
        url = f"{self.base()}/ccu/v3/{self.cfg.action}/{kind}/{self.cfg.network}"
        body = json.dumps({"objects": objects}).encode()
        targets = [f"{kind}:{o}" for o in objects]
        if not host_allowed("akamai", url, self.api_base):
            return not_sent(self.method, targets, f"el host de .edgerc no es de Akamai ({urlsplit(url).hostname}) / "
                                                  f".edgerc host is not Akamai's ({urlsplit(url).hostname})")
        if len(body) > AKAMAI_MAX_BODY:
            return not_sent(self.method, targets, f"solicitud de {len(body)} bytes > {AKAMAI_MAX_BODY} / "
                                                  f"request of {len(body)} bytes > {AKAMAI_MAX_BODY}")
        auth = EdgeGridAuth(v["client_token"], v["client_secret"], v["access_token"], max_body=v["max_body"])
        t0 = time.perf_counter()
        try:
            with BoundedSession() as s:          # total deadline and size cap
                s.trust_env = False
                r = s.post(url, data=body, headers={"Content-Type": "application/json"}, auth=auth,
                           timeout=self.cfg.timeout_s, allow_redirects=False)
        except requests.RequestException as exc:
            return self._obs(targets, False, (None,), error=f"{type(exc).__name__}: {exc}", t0=t0)
        try:
            doc = r.json()
        except ValueError:
            doc = {}
        doc = doc if isinstance(doc, Mapping) else {}
        ok = r.status_code == 201
        est = doc.get("estimatedSeconds")
        detail = str(doc.get("detail") or doc.get("title") or r.reason)
        return self._obs(targets, ok, (r.status_code,), detail, (str(doc.get("purgeId", "")),) if ok else (),
                         t0=t0, estimated_s=float(est) if isinstance(est, (int, float)) else None,
                         poll_ref=(str(doc.get("supportId", "")),))


# ---------------------------------------------------------------------------------------------- Azure


class AzureFrontDoorAdapter(PurgeAdapter):
    """AFD endpoint purge: 202 Accepted, then the ``Azure-AsyncOperation`` (or ``Location``) operation."""

    method, signal = "azure", "status"

    def base(self) -> str:
        return (self.api_base or AZURE_API).rstrip("/")

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.creds.values['token']}", "Content-Type": "application/json"}

    def send(self, paths: Sequence[str]) -> PurgeObservation:
        c = self.cfg
        url = (f"{self.base()}/subscriptions/{quote(c.subscription_id)}/resourceGroups/{quote(c.resource_group)}"
               f"/providers/Microsoft.Cdn/profiles/{quote(c.profile_name)}/afdEndpoints/{quote(c.endpoint_name)}"
               f"/purge?api-version={AZURE_API_VERSION}")
        content = _site_paths(paths)
        body: dict[str, Any] = {"contentPaths": content}
        if c.domains:
            body["domains"] = list(c.domains)
        t0 = time.perf_counter()
        try:
            with BoundedSession() as s:          # total deadline and size cap
                s.trust_env = False
                r = s.post(url, data=json.dumps(body), headers=self._headers(), timeout=c.timeout_s,
                           allow_redirects=False)
        except requests.RequestException as exc:
            return self._obs(content, False, (None,), error=f"{type(exc).__name__}: {exc}", t0=t0)
        op = r.headers.get("Azure-AsyncOperation") or r.headers.get("Location") or ""
        detail = "Accepted" if r.status_code == 202 else f"HTTP {r.status_code}: {r.text[:160]}"
        ok = r.status_code in (200, 202)
        obs = self._obs(content, ok, (r.status_code,), detail, (op.rsplit("/", 1)[-1].split("?")[0],) if op else (),
                        t0=t0, poll_ref=(op,))
        if ok and r.status_code == 200:
            obs = replace(obs, completion=(CompletionPoll(0.0, "complete", "200 OK"),), reported_complete_after_s=0.0)
        return obs

    def check(self, obs: PurgeObservation) -> tuple[str, str]:
        op = obs.poll_ref[0] if obs.poll_ref else ""
        if not op:
            return "unknown", "sin Azure-AsyncOperation ni Location / no Azure-AsyncOperation nor Location"
        if not host_allowed("azure", op, self.api_base):
            # the token goes to Azure's API host only, whatever the answer says
            return "unknown", f"operación en otro host, no consultada / operation on another host, not polled: " \
                              f"{urlsplit(op).hostname}"
        with BoundedSession() as s:          # total deadline and size cap
            s.trust_env = False
            r = s.get(op, headers=self._headers(), timeout=self.cfg.timeout_s, allow_redirects=False)
        if r.status_code == 202:                    # Location-style: still running
            return "in_progress", "202"
        try:
            status = str((r.json() or {}).get("status", ""))
        except ValueError:
            status = ""
        if r.status_code == 200 and (status.lower() == "succeeded" or (not status and "Location" in op)):
            return "complete", status or "200"
        if status.lower() in ("failed", "canceled", "cancelled"):
            return "failed", status
        if r.status_code != 200:
            return "unknown", f"HTTP {r.status_code}"
        return "in_progress", status


# ---------------------------------------------------------------------------------------------- factory

ADAPTERS: dict[str, type[PurgeAdapter]] = {"cloudfront": CloudFrontAdapter, "fastly": FastlyAdapter,
                                           "akamai": AkamaiAdapter, "azure": AzureFrontDoorAdapter}


def adapter_for(profile, cfg: PurgeConfig | None = None) -> PurgeAdapter | str:
    """The adapter for the profile's ``cdn.purge`` (a provider method), or why none can be made."""
    cfg = cfg or profile.cdn.purge
    api_base = cfg.api_base
    if api_base and not api_base_allowed(profile):
        return (f"api_base ({urlsplit(api_base).hostname}) no se usa sin el consentimiento del operador "
                f"(--trust-profile o {ALLOW_API_BASE_ENV}=1): las credenciales solo van a la API del proveedor / "
                f"api_base ({urlsplit(api_base).hostname}) is not used without the operator's consent "
                f"(--trust-profile or {ALLOW_API_BASE_ENV}=1): credentials go only to the provider's API")
    creds = credentials(profile, cfg)
    if creds.missing:
        es, _, en = creds.missing.partition(" / ")
        return f"credenciales: {es} / credentials: {en or es}"
    return ADAPTERS[cfg.method](cfg, profile.target_url if profile is not None else "", creds, api_base)


def provider_purge(profile, paths: Sequence[str], cfg: PurgeConfig | None = None,
                   site_url: str | None = None) -> tuple[PurgeObservation, PurgeAdapter | None]:
    """Send the purge through the provider's adapter; (observation, adapter for ``look``/``follow``)."""
    cfg = cfg or profile.cdn.purge
    ad = adapter_for(profile, cfg)
    if isinstance(ad, str):
        return not_sent(cfg.method, _site_paths(paths), ad), None
    if site_url:
        ad.site_url = site_url
    return ad.send(paths), ad


Looker = Callable[[PurgeObservation], PurgeObservation]
