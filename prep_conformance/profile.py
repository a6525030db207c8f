"""Difusor profiles (CONTRACT §3): YAML in, typed and frozen out, every error with file, line and key.

Two kinds of problems are kept apart:
* profile errors (syntax, unknown keys, wrong technical values, a named file that does not exist)
  stop the run before any check: ``load_profiles`` raises ``SourceErrors`` holding all of them;
* missing or invalid application data (contact e-mail, phones, staff) is a finding: the model
  accepts it as given and the document rules (``rules.documents``) turn it into FAIL verdicts.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from . import trust as trust_mod
from .convocatoria import Convocatoria, bundled_ids, load_convocatoria
from .yamlsource import SourceError, SourceErrors, load_yaml, validate

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _resolve_file(value: str | None, info: ValidationInfo, must_exist: bool = True) -> str | None:
    """Resolve a path relative to the profile's folder (``~`` expanded); it must exist."""
    if value is None:
        return None
    base = (info.context or {}).get("base_dir")
    if base is not None and not (info.context or {}).get("trusted", False):
        path = trust_mod.confined(base, str(value))   # untrusted: inside the profile's folder only
    else:
        path = Path(os.path.expanduser(str(value)))
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    if must_exist and (info.context or {}).get("check_files", True) and not path.exists():
        raise ValueError(f"file not found / no existe el archivo: {path}")
    return str(path)


def _url(value: str) -> str:
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be a URL with http:// or https:// and a host, got {value!r}")
    return str(value)


def _env_name(value: str | None) -> str | None:
    if value is not None and not ENV_NAME.match(value):
        raise ValueError(f"must name an environment variable (A-Z, 0-9, _), got {value!r}")
    return value


class Contact(BaseModel):
    """Letter-of-intent contact (III.3 c–f): accepted as given, judged by the documents rule."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    work_phone: str | None = None
    extension: str | None = None


class StaffMember(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)
    name: str | None = None
    role: str | None = None
    phone: str | None = None
    email: str | None = None


class Sites(_Strict):
    test: str | None = None
    official: str | None = None

    _check = field_validator("test", "official")(lambda cls, v: None if v is None else _url(v))


class Documents(_Strict):
    diagram: str | None = None
    logo: str | None = None
    memoria: str | None = None          # II.4: the delivered memoria técnica (PDF, or this tool's HTML)

    @field_validator("diagram", "logo", "memoria")
    @classmethod
    def _exists(cls, v, info: ValidationInfo):
        return _resolve_file(v, info)


class Http(_Strict):
    resolve: dict[str, str] = {}
    ca_bundle: str | None = None
    origin: str | None = None
    timeout_s: float = Field(10.0, gt=0, le=120)
    # the other scheme's port when the site is not on 80/443 (web checks: HTTP->HTTPS redirect, TLS scan)
    http_port: int | None = Field(None, ge=1, le=65535)
    https_port: int | None = Field(None, ge=1, le=65535)

    @field_validator("resolve")
    @classmethod
    def _addresses(cls, v: dict[str, str]) -> dict[str, str]:
        for host, addr in v.items():
            try:
                ipaddress.ip_address(str(addr))
            except ValueError:
                raise ValueError(f"{host}: {addr!r} is not an IP address") from None
        return {str(h).lower(): str(a) for h, a in v.items()}

    @field_validator("ca_bundle")
    @classmethod
    def _ca(cls, v, info: ValidationInfo):
        return _resolve_file(v, info)

    @field_validator("origin")
    @classmethod
    def _origin(cls, v):
        return None if v is None else _url(v)


class Ssh(_Strict):
    host: str
    port: int = Field(22, ge=1, le=65535)
    username: str
    key_file: str | None = None
    key_passphrase_env: str | None = None
    password_env: str | None = None
    accept_new_host_key: bool = False   # explicit opt-in: record a first-seen key into known_hosts
    known_hosts: str                    # (declared after the opt-in: its validator reads it)
    shell: bool = True
    upload_dir: str
    scratch_dir: str | None = None
    timeout_s: float = Field(15.0, gt=0, le=300)
    probe_mb: float = Field(256, gt=0, le=4096)    # size of each upload probe (10^6 bytes)
    rounds: int = Field(3, ge=1, le=10)
    # II.1.d engine: auto = OpenSSH's sftp for an unencrypted key when installed, else tuned paramiko
    upload_engine: Literal["auto", "openssh", "paramiko"] = "auto"

    @field_validator("key_file")
    @classmethod
    def _key(cls, v, info: ValidationInfo):
        return _resolve_file(v, info)

    @field_validator("known_hosts")
    @classmethod
    def _known_hosts(cls, v, info: ValidationInfo):
        # With accept_new_host_key the file may not exist yet: it is created on first contact.
        must = not (info.data or {}).get("accept_new_host_key", False)
        return _resolve_file(v, info, must_exist=must)

    _envs = field_validator("key_passphrase_env", "password_env")(lambda cls, v: _env_name(v))

    @field_validator("host", "username")
    @classmethod
    def _no_option(cls, v: str) -> str:
        # these reach OpenSSH's argv: never an option ("-oProxyCommand=..."), never whitespace
        if not v or v.startswith("-") or any(c.isspace() or ord(c) < 32 for c in v):
            raise ValueError(f"must not start with '-' nor hold spaces or control characters, got {v!r}")
        return v

    @model_validator(mode="after")
    def _credentials(self):
        if not self.key_file and not self.password_env:
            raise ValueError("needs key_file or password_env")
        return self


class Dns(_Strict):
    nameserver: str
    port: int = Field(53, ge=1, le=65535)

    @field_validator("nameserver")
    @classmethod
    def _ip(cls, v):
        ipaddress.ip_address(v)
        return v


class PurgeConfig(_Strict):
    method: Literal["PURGE", "BAN", "cloudflare", "command", "cloudfront", "fastly", "akamai", "azure"]
    url: str | None = None
    token_env: str | None = None
    zone_id: str | None = None
    api_base: str | None = None      # the provider's API base (a local stand-in in tests and the lab only)
    command: list[str] | None = None
    timeout_s: float = Field(10.0, gt=0, le=120)
    # issue 16: the CDNs' own purge APIs (credentials never here: environment variable or credentials file)
    token_file: str | None = None                   # fastly, azure: a file holding the token (instead of token_env)
    distribution_id: str | None = None              # cloudfront
    aws_profile: str | None = None                  # cloudfront: a profile of the operator's AWS credentials file
    aws_credentials_file: str | None = None         # cloudfront: that file when not ~/.aws/credentials
    service_id: str | None = None                   # fastly
    soft: bool = False                              # fastly: Fastly-Soft-Purge (mark stale, not remove)
    tags: list[str] | None = None                   # fastly surrogate keys / akamai cache tags
    cpcodes: list[int] | None = None                # akamai: purge by CP code
    edgerc: str | None = None                       # akamai: the .edgerc file with the API client credentials
    edgerc_section: str = "default"
    network: Literal["staging", "production"] = "production"    # akamai
    action: Literal["invalidate", "delete"] = "invalidate"      # akamai Fast Purge v3
    subscription_id: str | None = None              # azure (Front Door Standard/Premium)
    resource_group: str | None = None
    profile_name: str | None = None
    endpoint_name: str | None = None
    domains: list[str] | None = None

    _env = field_validator("token_env")(lambda cls, v: _env_name(v))

    @field_validator("edgerc", "token_file", "aws_credentials_file")
    @classmethod
    def _edgerc(cls, v, info: ValidationInfo):
        return _resolve_file(v, info)

    @model_validator(mode="after")
    def _complete(self):
        if self.method in ("PURGE", "BAN") and not self.url:
            raise ValueError(f"method {self.method} needs url")
        if self.method == "cloudflare" and not (self.zone_id and self.token_env):
            raise ValueError("method cloudflare needs zone_id and token_env")
        if self.method == "command" and not self.command:
            raise ValueError("method command needs command: [program, args...]")
        need = {"cloudfront": ("distribution_id",), "fastly": ("service_id",), "akamai": ("edgerc",),
                "azure": ("subscription_id", "resource_group", "profile_name", "endpoint_name")}
        missing = [k for k in need.get(self.method, ()) if not getattr(self, k)]
        if self.method in ("fastly", "azure") and not (self.token_env or self.token_file):
            missing.append("token_env or token_file")
        if missing:
            raise ValueError(f"method {self.method} needs {', '.join(missing)}")
        if self.tags and self.cpcodes:
            raise ValueError("give tags or cpcodes, not both")
        if self.cpcodes and self.method != "akamai":
            raise ValueError("cpcodes is for method akamai")
        if self.tags and self.method not in ("fastly", "akamai"):
            raise ValueError("tags is for methods fastly (surrogate keys) and akamai (cache tags)")
        if self.api_base:
            _url(self.api_base)
        if self.url:
            _url(self.url)
        return self


class Cdn(_Strict):
    purge: PurgeConfig | None = None
    drill: bool = False


class Load(_Strict):
    authorized: bool = False
    users: int | None = Field(None, ge=1)
    spawn_rate: float | None = Field(None, gt=0)
    duration_s: int | None = Field(None, ge=1)
    workers: int = Field(0, ge=0, le=64)          # Locust master/worker mode; 0 = one process
    remote_workers: bool = False                  # wait for workers started by the user elsewhere
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_error_rate: float | None = None
    min_rps: float | None = None
    min_served_ratio: float | None = Field(None, gt=0, le=1)
    poll_min_s: float | None = Field(None, ge=0)   # visitor think time (the bench sets 0 to saturate)
    poll_max_s: float | None = Field(None, ge=0)
    weights: dict[str, float] | None = None       # task weights: poll (main.json), data (JSON/CSV), page
    expect_workers_wait_s: int | None = Field(None, ge=1)
    master_bind_host: str | None = None           # remote workers: the master's listen address (default 127.0.0.1)
    master_port: int | None = Field(None, ge=1, le=65535)

    @field_validator("weights")
    @classmethod
    def _weights(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is not None:
            bad = sorted(set(v) - {"poll", "data", "page"})
            if bad:
                raise ValueError(f"unknown task(s) {', '.join(bad)}; known: poll, data, page")
            if any(w < 0 for w in v.values()) or not any(w > 0 for w in v.values()):
                raise ValueError("weights must be >= 0 and at least one > 0")
        return v


class Analytics(_Strict):
    """II.2.c: the analytics mechanism the difusor declares (detected on the page when possible)."""

    provider: str | None = None
    evidence: str | None = None
    # the web server's or CDN's access logs (combined/common, CloudFront, JSON lines; plain or .gz): II.2.c
    # is judged on the figures computed from them
    access_logs: list[str] = []

    @field_validator("evidence")
    @classmethod
    def _exists(cls, v, info: ValidationInfo):
        return _resolve_file(v, info)

    @field_validator("access_logs")
    @classmethod
    def _logs(cls, v, info: ValidationInfo):
        return [_resolve_file(p, info) for p in v]


class Availability(_Strict):
    """II.2.e: a monitoring report or SLA the difusor declares."""

    sla: float | None = Field(None, gt=0, le=1)
    evidence: str | None = None
    monitor_log: str | None = None      # samples written by ``prep-conformance monitor`` (JSON lines)

    @field_validator("evidence", "monitor_log")
    @classmethod
    def _exists(cls, v, info: ValidationInfo):
        return _resolve_file(v, info)


class Profile(BaseModel):
    """A difusor's profile. ``source`` and ``base_dir`` are set by the loader."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    id: str
    name: str | None = None
    kind: str | None = None
    entidad: str | None = None
    convocatoria: str = "iem-michoacan-2024"
    contact: Contact = Contact()
    registration_ip: str | None = None
    sites: Sites
    target: Literal["test", "official"] = "test"
    staff: list[StaffMember] = []
    documents: Documents = Documents()
    http: Http = Http()
    ssh: Ssh | None = None
    dns: Dns | None = None
    cdn: Cdn = Cdn()
    load: Load = Load()
    analytics: Analytics | None = None
    availability: Availability | None = None
    package: str | None = None
    # Lab scenarios only: the requirements this difusor is meant to fail (used by the tests and the demo).
    expect: dict[str, str] = {}

    source: str = Field("", exclude=True)
    base_dir: str = Field("", exclude=True)
    digest: str = Field("", exclude=True)
    id_line: int = Field(0, exclude=True)   # where ``id`` is written (a duplicate id names both places)
    _trust: Any = PrivateAttr(None)           # trust.Trust: the operator's consent (never from the YAML)
    _convocatoria: Any = PrivateAttr(None)    # the Convocatoria it is judged against (pinned or its own)

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError(f"must be a slug (lowercase letters, digits, '-'), got {v!r}")
        return v

    @field_validator("package")
    @classmethod
    def _package(cls, v, info: ValidationInfo):
        return _resolve_file(v, info)

    @model_validator(mode="after")
    def _target_site(self):
        if getattr(self.sites, self.target) is None:
            raise ValueError(f"target is {self.target!r} but sites.{self.target} is not set")
        return self

    @property
    def target_url(self) -> str:
        return getattr(self.sites, self.target)

    def env_secret(self, name: str | None, destination: str | None = None, purpose: str = "secreto / secret"
                   ) -> str | None:
        """Deprecated: use ``trust.secret(profile, name, destination, purpose)``, which this calls (an untrusted
        profile gets ``TrustRefused``; the value is never stored on the profile)."""
        return trust_mod.secret(self, name, destination, purpose)


def _profile_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def load_profile(path: str | Path, check_files: bool = True, trust: trust_mod.Trust | None = None,
                 convocatoria: Convocatoria | None = None) -> Profile:
    """Load one profile; raises ``SourceErrors`` with every problem found.

    ``trust`` is the operator's consent (default: untrusted, paths confined to the profile's folder, unless
    the operator's environment says ``PREP_TRUST_PROFILE=1``);
    ``convocatoria`` the one the operator pinned (``--convocatoria``): a profile naming another is an error.
    """
    path = Path(path)
    trust = trust if trust is not None else trust_mod.from_options()   # untrusted unless PREP_TRUST_PROFILE=1
    doc = load_yaml(path)
    base = path.resolve().parent
    profile = validate(doc, Profile, context={"base_dir": base, "check_files": check_files,
                                              "trusted": trust.profiles})
    line = doc.line_of(("convocatoria",))
    try:
        conv = resolve_convocatoria(profile.convocatoria, base, explicit="convocatoria" in profile.model_fields_set,
                                    pinned=convocatoria, trusted=trust.profiles)
    except SourceErrors as exc:
        raise SourceErrors([SourceError(str(path), line, "convocatoria",
                                        e.message if (e.key, e.line) == ("convocatoria", None) else str(e))
                            for e in exc.errors]) from None
    if profile.package and not trust.profiles and Path(profile.package).is_dir():
        out = trust_mod.links_out(base, profile.package)
        if out:
            raise SourceErrors([SourceError(str(path), doc.line_of(("package",)), "package",
                                            f"{out}: un enlace simbólico sale de la carpeta del perfil; permítalo con "
                                            f"{trust_mod.FLAG} / a symbolic link leads out of the profile's folder; "
                                            f"allow it with {trust_mod.FLAG}")])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    out_p = profile.model_copy(update={"source": str(path), "base_dir": str(base), "digest": digest,
                                       "id_line": doc.line_of(("id",)) or 1})
    out_p._trust = trust
    out_p._convocatoria = conv
    return out_p


def resolve_convocatoria(ref: str, base: Path | None, *, explicit: bool = True, pinned: Convocatoria | None = None,
                         trusted: bool = False) -> Convocatoria:
    """The convocatoria a profile is judged against (``SourceErrors`` when refused).

    With a pin: the pinned one, and a profile naming another (other id or other bytes) is an error.
    Untrusted: a bundled id only; a file named by the profile is refused unless it is byte for byte the
    operator's pinned one (an applicant never picks its own thresholds).
    """
    if pinned is not None and not explicit:
        return pinned
    if not trusted and str(ref) not in bundled_ids():
        ok = False
        if pinned is not None and base is not None:
            try:
                p = trust_mod.confined(base, str(ref))
                ok = p.is_file() and hashlib.sha256(p.read_bytes()).hexdigest() == pinned.sha256
            except (ValueError, OSError):
                ok = False
        if not ok and pinned is not None:
            raise SourceErrors([SourceError(str(ref), None, "convocatoria",
                f"el perfil nombra el archivo {ref}, que no es la convocatoria fijada por el operador con "
                f"--convocatoria ({pinned.id}, SHA-256 {pinned.sha256[:12]}…) / the profile names the file {ref}, "
                f"which is not the convocatoria the operator pinned with --convocatoria ({pinned.id}, "
                f"SHA-256 {pinned.sha256[:12]}…)")])
        if not ok:
            raise SourceErrors([SourceError(str(ref), None, "convocatoria",
                f"un perfil no confiable solo puede nombrar una convocatoria incluida ({', '.join(bundled_ids())}); "
                f"el operador fija un archivo con --convocatoria ARCHIVO, o responde por el perfil con "
                f"{trust_mod.FLAG} / an untrusted profile may only name a bundled convocatoria; the operator pins "
                f"a file with --convocatoria FILE, or vouches for the profile with {trust_mod.FLAG}")])
    conv = load_convocatoria(ref, base)
    if pinned is not None and conv.sha256 != pinned.sha256:
        raise SourceErrors([SourceError(str(ref), None, "convocatoria",
            f"el perfil nombra la convocatoria {conv.id} (SHA-256 {conv.sha256[:12]}…) pero el operador fijó "
            f"{pinned.id} (SHA-256 {pinned.sha256[:12]}…) con --convocatoria / the profile names convocatoria "
            f"{conv.id} (SHA-256 {conv.sha256[:12]}…) but the operator pinned {pinned.id} "
            f"(SHA-256 {pinned.sha256[:12]}…) with --convocatoria")])
    return pinned if pinned is not None else conv


def load_profiles(paths: list[str | Path], check_files: bool = True, trust: trust_mod.Trust | None = None,
                  convocatoria: Convocatoria | None = None) -> list[Profile]:
    """Load every profile (folders expanded); all errors of all files are raised together."""
    profiles: list[Profile] = []
    errors: list[SourceError] = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            errors.append(SourceError(str(p), None, "", "no such file or folder / no existe"))
            continue
        files = _profile_files(p)
        if not files:
            errors.append(SourceError(str(p), None, "", "folder holds no .yaml profile"))
        for f in files:
            try:
                profiles.append(load_profile(f, check_files, trust, convocatoria))
            except SourceErrors as exc:
                errors.extend(exc.errors)
    seen: dict[str, Profile] = {}
    for prof in profiles:
        first = seen.setdefault(prof.id, prof)
        if first is not prof:
            errors.append(SourceError(prof.source, prof.id_line or 1, "id",
                                      f"duplicate id {prof.id!r}: also at {first.source}:{first.id_line or 1} / "
                                      f"id repetido: también en {first.source}:{first.id_line or 1}"))
    if errors:
        raise SourceErrors(errors)
    return profiles


def convocatoria_of(profile: Profile) -> Convocatoria:
    if profile._convocatoria is not None:       # loaded (or pinned) when the profile was loaded
        return profile._convocatoria
    return load_convocatoria(profile.convocatoria, Path(profile.base_dir) if profile.base_dir else None)
