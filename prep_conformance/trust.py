"""Trust: what a profile alone may make this machine do (nothing), and what needs the operator's consent.

Applicants write profiles; the institute runs them. A profile is untrusted input by default: it may not
run a command, read a secret of the checking machine (an environment variable or a file), send a secret
anywhere but where it belongs, read outside its own folder, pick its own convocatoria, or open a port
beyond loopback. Consent comes only from the operator, never from a profile:

* ``--trust-profile`` (pytest: ``--prep-trust-profile``; environment ``PREP_TRUST_PROFILE=1``): the
  operator vouches for every profile given (a difusor testing its own set-up; the institute running
  profiles it wrote; the lab);
* ``--trust-file FILE`` (pytest: ``--prep-trust-file``): the operator's own YAML mapping the secret
  names a profile may ask for to an environment variable or a file, per profile and destination.

Every piece of code obtains a secret, runs a command or chooses a listen address through this module:
``secret()``, ``run()``, ``bind_host()``; ``allowed_destination()`` says where a secret may go. A
refusal is a ``TrustRefused`` (a ``CheckError``: the check becomes ERROR with the reason and the flag
that would allow it); nothing was run, read or sent when it is raised.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence
from urllib.parse import urlsplit

from .errors import CheckError

FLAG = "--trust-profile"
FLAG_PYTEST = "--prep-trust-profile"
FILE_FLAG = "--trust-file"
ENV_FLAG = "PREP_TRUST_PROFILE"

# Where a provider's purge API lives: a token for method M goes to these hosts (or a declared site's).
PROVIDER_API_HOSTS: dict[str, tuple[str, ...]] = {
    "cloudflare": ("api.cloudflare.com",),
    "cloudfront": ("cloudfront.amazonaws.com",),
    "fastly": ("api.fastly.com",),
    "akamai": ("*.akamaiapis.net",),
    "azure": ("management.azure.com", "login.microsoftonline.com"),
}

Kind = Literal["token", "password"]


class TrustRefused(CheckError):
    """Refused for lack of the operator's consent; nothing was run, read or sent.

    ``summary``/``summary_en`` say what was not done, why, and the flag that would allow it;
    ``str()`` is both (Spanish / English). Evidence: ``refused`` (what), ``allow_with`` (the flag).
    """

    def __init__(self, summary: str, summary_en: str, **evidence: Any):
        super().__init__(summary, summary_en, **evidence)

    def __str__(self) -> str:
        return f"{self.summary} / {self.summary_en}"


@dataclass(frozen=True)
class Grant:
    """One secret name the operator lets profiles ask for (``--trust-file``)."""

    name: str
    env: str | None = None          # read from this environment variable...
    file: str | None = None         # ...or from this file (first line, stripped)
    profiles: tuple[str, ...] = ()  # only these profile ids (empty: any)
    hosts: tuple[str, ...] = ()     # extra destinations (a password needs them: its SSH host)

    def applies_to(self, profile_id: str) -> bool:
        return not self.profiles or profile_id in self.profiles


@dataclass(frozen=True)
class Trust:
    """The operator's consent for one run. ``Trust()`` is the default: nothing trusted."""

    profiles: bool = False                  # --trust-profile: the operator vouches for every profile
    via: str = ""                           # where that came from: "--trust-profile" | "PREP_TRUST_PROFILE=1"
    grants: Mapping[str, Grant] = field(default_factory=dict)
    file: str | None = None                 # the trust file, when given

    def describe(self) -> dict[str, Any]:
        """For results.json: the level and where consent came from (never a secret nor a path)."""
        return {"profiles": "trusted" if self.profiles else "untrusted", "via": self.via or None,
                "trust_file": bool(self.file), "granted_secrets": sorted(self.grants)}

    def grant(self, name: str, profile_id: str) -> Grant | None:
        g = self.grants.get(name)
        return g if g is not None and g.applies_to(profile_id) else None


UNTRUSTED = Trust()
TRUSTED = Trust(profiles=True, via=FLAG)


def of(who: Any) -> Trust:
    """The trust of a profile (set by the loader), or ``who`` itself when it is a ``Trust``."""
    if isinstance(who, Trust):
        return who
    t = getattr(who, "_trust", None)
    return t if isinstance(t, Trust) else UNTRUSTED


def _purpose(purpose: str) -> tuple[str, str]:
    """``"purga / purge"`` → (``purga``, ``purge``): each language gets its own word."""
    es, sep, en = str(purpose).partition(" / ")
    return (es, en) if sep else (purpose, purpose)


def _allow_with(secret_name: str | None = None) -> tuple[str, str]:
    extra_es = f", o conceda {secret_name} en un archivo {FILE_FLAG}" if secret_name else ""
    extra_en = f", or grant {secret_name} in a {FILE_FLAG} file" if secret_name else ""
    return (f"permítalo con {FLAG} (pytest: {FLAG_PYTEST}) si usted responde por el perfil{extra_es}",
            f"allow it with {FLAG} (pytest: {FLAG_PYTEST}) if you vouch for the profile{extra_en}")


# --------------------------------------------------------------------------------------------- destinations


def _host(url_or_host: str) -> str:
    s = str(url_or_host or "")
    if "://" in s:
        s = urlsplit(s).hostname or ""
    return s.strip("[]").rstrip(".").lower()


def _pid(who: Any) -> str:
    return str(getattr(who, "id", "") or "")


def site_hosts(profile: Any) -> set[str]:
    """The hosts of the difusor's declared sites (test, official, origin) and the addresses it pins them to."""
    hosts: set[str] = set()
    if not hasattr(profile, "sites"):        # a bare Trust (code that holds no profile): no declared site
        return hosts
    for url in (profile.sites.test, profile.sites.official, getattr(profile.http, "origin", None)):
        if url:
            hosts.add(_host(url))
    resolve = dict(getattr(profile.http, "resolve", {}) or {})
    for h in list(hosts):
        if h in resolve:
            hosts.add(_host(resolve[h]))
    hosts.discard("")
    return hosts


def provider_hosts(profile: Any, method: str | None) -> tuple[str, ...]:
    """The provider's API hosts for ``method``; with ``--trust-profile`` (or the operator's
    ``PREP_ALLOW_API_BASE=1``) also the profile's ``api_base`` (a stand-in the operator vouches for)."""
    hosts = PROVIDER_API_HOSTS.get(str(method or ""), ())
    cfg = getattr(getattr(profile, "cdn", None), "purge", None)
    api_base = getattr(cfg, "api_base", None)
    if api_base and (of(profile).profiles or os.environ.get("PREP_ALLOW_API_BASE") == "1"):
        hosts = hosts + (_host(api_base),)
    return hosts


def _match(host: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(host, p.lower()) for p in patterns)


def refusal(profile: Any, destination: str, kind: Kind = "token", method: str | None = None,
            name: str | None = None) -> tuple[str, str] | None:
    """None when a secret of ``kind`` may go to ``destination`` (a host or URL); else why not (es, en).

    * token: the provider's API host for ``method`` or a host of the difusor's declared sites;
    * password / key passphrase: the SSH host the operator allowed (the profile's ``ssh.host`` under
      ``--trust-profile``; a trust-file grant's ``hosts``).
    A trust-file grant's ``hosts`` add destinations for that secret.
    """
    host = _host(destination)
    t = of(profile)
    g = t.grant(name, _pid(profile)) if name else None
    if g is not None and _match(host, g.hosts):
        return None
    if kind == "token":
        allowed = set(provider_hosts(profile, method)) | site_hosts(profile)
        if _match(host, sorted(allowed)):
            return None
        where = ", ".join(sorted(allowed)) or "-"
        return (f"el destino {host} no es la API del proveedor ({method}) ni un sitio declarado del difusor "
                f"(permitidos: {where})",
                f"destination {host} is neither the provider's API ({method}) nor a declared site of the difusor "
                f"(allowed: {where})")
    ssh = getattr(profile, "ssh", None)
    # the operator vouches for the profile's ssh.host (a bare Trust: the code's own configuration)
    if t.profiles and (host == _host(ssh.host) if ssh is not None else not hasattr(profile, "sites")):
        return None
    return (f"el destino {host} no es un servidor SSH permitido por el operador",
            f"destination {host} is not an SSH host the operator allowed")


def allowed_destination(profile: Any, destination: str, kind: Kind = "token", method: str | None = None,
                        name: str | None = None) -> bool:
    """Whether a secret of ``kind`` (named ``name``) may be sent to ``destination``; see ``refusal``."""
    return refusal(profile, destination, kind, method, name) is None


# --------------------------------------------------------------------------------------------- secrets


def may_read_secret(profile: Any, name: str) -> bool:
    t = of(profile)
    return t.profiles or t.grant(name, _pid(profile)) is not None


def secret(profile: Any, name: str | None, destination: str | None, purpose: str, kind: Kind = "token",
           method: str | None = None) -> str | None:
    """The value of the secret the profile names (``token_env``, ``password_env``...), for ``destination``.

    Refuses (``TrustRefused``) before reading anything when the profile is untrusted and the operator
    granted no such name, or when ``destination`` (a host or URL) is not where this secret belongs
    (``refusal``). ``destination=None`` only for a value that never leaves this machine (e.g. handed to
    a command the operator allowed). A missing variable or file is a ``CheckError``. ``name`` None → None.
    """
    if not name:
        return None
    t = of(profile)
    g = t.grant(name, _pid(profile))
    if not (t.profiles or g is not None):
        es, en = _allow_with(name)
        p_es, p_en = _purpose(purpose)
        raise TrustRefused(
            f"No se leyó ni se envió el secreto {name} ({p_es}): un perfil no confiable no puede pedir "
            f"secretos de esta máquina; {es}.",
            f"The secret {name} ({p_en}) was neither read nor sent: an untrusted profile may not ask for "
            f"secrets of this machine; {en}.",
            refused="secret", secret_name=name, purpose=purpose, allow_with=f"{FLAG} | {FILE_FLAG}")
    why = refusal(profile, destination, kind, method, name) if destination is not None else None
    if why is not None:
        p_es, p_en = _purpose(purpose)
        raise TrustRefused(
            f"No se envió el secreto {name} ({p_es}): {why[0]}.",
            f"The secret {name} ({p_en}) was not sent: {why[1]}.",
            refused="destination", secret_name=name, purpose=purpose, destination=_host(destination or ""),
            allow_with=f"{FILE_FLAG} (hosts)")
    if g is not None and g.file:
        try:
            return Path(g.file).read_text(encoding="utf-8").splitlines()[0].strip()
        except (OSError, IndexError, UnicodeDecodeError) as exc:
            raise CheckError(f"No se pudo leer el secreto {name} del archivo del operador: {type(exc).__name__}",
                             f"Could not read secret {name} from the operator's file: {type(exc).__name__}",
                             secret_name=name) from None
    var = g.env if g is not None and g.env else name
    value = os.environ.get(var)
    if value is None:
        p_es, p_en = _purpose(purpose)
        raise CheckError(f"La variable de entorno {var} ({p_es}) no está definida.",
                         f"Environment variable {var} ({p_en}) is not set.", env=var)
    return value


def secret_values(profiles: Sequence[Any], names: Sequence[str]) -> list[str]:
    """Every value these secret names may stand for (for scrubbing outputs only; never sent)."""
    out: list[str] = []
    for name in names:
        if os.environ.get(name):
            out.append(os.environ[name])
        for p in profiles:
            g = of(p).grant(name, _pid(p))
            if g is not None and g.env and os.environ.get(g.env):
                out.append(os.environ[g.env])
            elif g is not None and g.file:
                try:
                    out.append(Path(g.file).read_text(encoding="utf-8").splitlines()[0].strip())
                except (OSError, IndexError, UnicodeDecodeError):
                    pass
    return out


# --------------------------------------------------------------------------------------------- commands


def run(who: Any, argv: Sequence[str], purpose: str, **kw: Any) -> subprocess.CompletedProcess:
    """Run a command a profile names (``subprocess.run``, never a shell); refused unless trusted."""
    if not of(who).profiles:
        es, en = _allow_with()
        shown = " ".join(str(a) for a in list(argv)[:6])
        p_es, p_en = _purpose(purpose)
        raise TrustRefused(
            f"No se ejecutó el comando del perfil ({p_es}: {shown}): un perfil no confiable no puede ejecutar "
            f"comandos en esta máquina; {es}.",
            f"The profile's command was not run ({p_en}: {shown}): an untrusted profile may not run commands "
            f"on this machine; {en}.",
            refused="command", purpose=purpose, argv=[str(a) for a in list(argv)[:20]], allow_with=FLAG)
    kw.pop("shell", None)
    return subprocess.run([str(a) for a in argv], shell=False, **kw)


def may_run(who: Any) -> bool:
    return of(who).profiles


OWN_PROGRAMS = frozenset({"sftp", "ssh-keygen", "sshd"})   # plus this Python (Locust runs in it)


def own_command(argv: Sequence[str]) -> list[str]:
    """The argv of one of the tool's own programs (OpenSSH's ``sftp``/``ssh-keygen``, this Python running
    Locust), checked before it is started: never a program a profile names (that is ``run``), never an
    argument holding NUL or a line break. A ``ValueError`` here is a bug, not a user error."""
    import sys
    args = [str(a) for a in argv]
    if not args or not (os.path.basename(args[0]) in OWN_PROGRAMS or args[0] == sys.executable):
        raise ValueError(f"not one of the tool's own programs: {args[:1]}")
    if any("\0" in a or "\n" in a for a in args):
        raise ValueError("an argument holds NUL or a line break")
    return args


# --------------------------------------------------------------------------------------------- listening


def is_loopback(host: str) -> bool:
    h = _host(host)
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def bind_host(who: Any, requested: str | None, purpose: str, *, operator_ok: bool = False) -> str:
    """The address a server the tool opens listens on: loopback unless told otherwise.

    A non-loopback address asked by a profile needs ``--trust-profile``; ``operator_ok`` is the
    operator's own flag (e.g. ``watch --board-host``) and always counts.
    """
    if not requested:
        return "127.0.0.1"
    if is_loopback(requested) or operator_ok or of(who).profiles:
        return requested
    es, en = _allow_with()
    p_es, p_en = _purpose(purpose)
    raise TrustRefused(
        f"No se abrió {p_es} en {requested}: sin consentimiento solo se escucha en loopback; {es}.",
        f"{p_en[:1].upper() + p_en[1:]} was not opened on {requested}: without consent only loopback is used; {en}.",
        refused="bind", purpose=purpose, requested=requested, allow_with=FLAG)


# --------------------------------------------------------------------------------------------- paths


def confined(base: str | Path, value: str) -> Path:
    """``value`` resolved inside the profile's folder ``base``; ``ValueError`` (bilingual) otherwise.

    No absolute paths, no ``~``, no ``..``, and no symbolic link that leads out of the folder.
    """
    raw = str(value)
    why = None
    if raw.startswith("~") or os.path.isabs(raw):
        why = "ruta absoluta / absolute path"
    elif ".." in Path(raw).parts:
        why = "contiene '..' / contains '..'"
    else:
        base_r = Path(base).resolve()
        target = (base_r / raw).resolve()
        if target != base_r and base_r not in target.parents:
            why = "un enlace simbólico sale de la carpeta / a symbolic link leads out of the folder"
    if why:
        es, en = _allow_with()
        raise ValueError(f"fuera de la carpeta del perfil ({why}); {es} / outside the profile's folder; {en}")
    return Path(base) / raw


def links_out(base: str | Path, folder: str | Path, limit: int = 100_000) -> str | None:
    """The first symbolic link under ``folder`` that leads outside ``base`` (a paquete may hold none)."""
    base_r = Path(base).resolve()
    seen = 0
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            seen += 1
            if seen > limit:
                return None
            p = Path(root) / name
            if p.is_symlink():
                target = p.resolve()
                if target != base_r and base_r not in target.parents:
                    return str(p.relative_to(folder))
    return None


# --------------------------------------------------------------------------------------------- building


def load_trust_file(path: str | Path) -> dict[str, Grant]:
    """Parse the operator's trust file (``SourceErrors`` with file, line and key on a mistake)::

        secrets:
          CF_API_TOKEN: {env: IEM_CF_TOKEN, profiles: [medio-ejemplo]}
          SFTP_PASSWORD: {file: /etc/prep/sftp.pw, hosts: [sftp.medio.example]}
    """
    from pydantic import BaseModel, ConfigDict, model_validator

    from .yamlsource import load_yaml, validate

    class _G(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        env: str | None = None
        file: str | None = None
        profiles: list[str] = []
        hosts: list[str] = []

        @model_validator(mode="after")
        def _one(self):
            if bool(self.env) == bool(self.file):
                raise ValueError("needs exactly one of env or file")
            return self

    class _F(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        secrets: dict[str, _G] = {}

    doc = validate(load_yaml(Path(path)), _F)
    return {n: Grant(n, g.env, g.file, tuple(g.profiles), tuple(h.lower() for h in g.hosts))
            for n, g in doc.secrets.items()}  # type: ignore[attr-defined]


def from_options(trust_profile: bool = False, trust_file: str | None = None,
                 environ: Mapping[str, str] | None = None) -> Trust:
    """The run's ``Trust`` from the operator's flags and environment (``PREP_TRUST_PROFILE=1``)."""
    env = os.environ if environ is None else environ
    via = FLAG if trust_profile else (f"{ENV_FLAG}=1" if env.get(ENV_FLAG) == "1" else "")
    grants = load_trust_file(trust_file) if trust_file else {}
    return Trust(profiles=bool(via), via=via, grants=grants, file=str(trust_file) if trust_file else None)
