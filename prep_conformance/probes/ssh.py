"""SSH/SFTP probe (II.1.a, II.1.c, II.1.d): one verified paramiko connection per difusor.

The host key is checked against the profile's ``known_hosts`` *before* any credential is sent: an
unknown or changed key raises ``CheckError`` with both fingerprints; ``ssh.accept_new_host_key`` (an
explicit opt-in) records a first-seen key, never replaces a changed one. Every network operation has a
timeout (``ssh.timeout_s``). Observations are frozen dataclasses; the rules judge them.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shlex
import socket
import stat as stat_mod
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:   # paramiko (~0.1 s) loads where a connection is made, not in runs that make none
    import paramiko

from .. import trust as trust_mod
from ..errors import CheckError
from ..profile import Ssh
from . import sshfault

# AES-GCM first: with AES-NI it is the fastest cipher both ends usually have (issue 5 measurements).
PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr",
                     "aes192-ctr", "chacha20-poly1305@openssh.com")
WINDOW_SIZE = 64 * 1024 * 1024          # a large SSH window keeps many 256 KiB writes in flight
MAX_PACKET_SIZE = 256 * 1024 + 1024
OUTPUT_CAP = 64 * 1024                  # command output kept for evidence

# A known_hosts key type and the signature algorithms that prove it (RSA keys sign with SHA-2 today).
_ALGS_OF_KEYTYPE = {"ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")}


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH-style ``SHA256:…`` fingerprint, as ``ssh-keygen -lf`` prints it."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def host_entry_name(host: str, port: int) -> str:
    """The name a known_hosts line uses: ``host`` on port 22, ``[host]:port`` otherwise."""
    return host if port == 22 else f"[{host}]:{port}"


@dataclass(frozen=True)
class SshInfo:
    """What the connection itself tells.

    Attributes:
        host, port, username: where we logged in.
        server_banner: the server's version string (``SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3``).
        host_key_type, host_key_fingerprint: the key the server proved, as verified.
        host_key_status: ``known`` (matched known_hosts) or ``recorded`` (first seen, opt-in).
        cipher: the client→server cipher negotiated.
        auth: ``publickey`` or ``password``.
        connect_s: time from TCP connect to authenticated.
    """

    host: str
    port: int
    username: str
    server_banner: str
    host_key_type: str
    host_key_fingerprint: str
    host_key_status: str
    cipher: str
    auth: str
    connect_s: float


@dataclass(frozen=True)
class CommandResult:
    """A command run over the shell account. Attributes: command, exit_status (None: none sent), stdout, stderr."""

    command: str
    exit_status: int | None
    stdout: str
    stderr: str


@dataclass(frozen=True)
class StatVfs:
    """The ``statvfs@openssh.com`` reply (11 uint64 in the order of POSIX ``struct statvfs``)."""

    f_bsize: int
    f_frsize: int
    f_blocks: int
    f_bfree: int
    f_bavail: int
    f_files: int
    f_ffree: int
    f_favail: int
    f_fsid: int
    f_flag: int
    f_namemax: int


@dataclass(frozen=True)
class OsObservation:
    """Evidence about the server's operating system.

    Attributes:
        banner: the SSH server version string (always known once connected).
        uname_s, uname_r: ``uname -s`` / ``uname -r`` output when a shell ran them.
        ver: Windows ``ver`` output when ``uname`` was not there.
        shell: whether the profile gives a shell account.
        errors: why a command could not tell (kept for the reviewer).
    """

    banner: str
    uname_s: str | None = None
    uname_r: str | None = None
    ver: str | None = None
    shell: bool = True
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class DiskObservation:
    """Free space of the upload directory.

    Attributes:
        path: the directory asked about (``upload_dir``).
        method: ``df -Pk`` or ``statvfs@openssh.com``.
        avail_bytes: bytes available to the unprivileged user (``f_bavail * f_frsize``, or df's column × 1024).
        total_bytes: size of the file system.
        raw: the df line, or the statvfs numbers.
        error: why it could not be measured (``avail_bytes`` is then None).
        missing: the directory does not exist.
    """

    path: str
    method: str
    avail_bytes: int | None
    total_bytes: int | None = None
    raw: Any = None
    error: str | None = None
    missing: bool = False


class SshSession:
    """An authenticated, host-key-verified SSH connection with its SFTP client; close() when done."""

    def __init__(self, cfg: Ssh, transport: paramiko.Transport, info: SshInfo):
        self.cfg = cfg
        self.transport = transport
        self.info = info
        self._sftp: paramiko.SFTPClient | None = None
        self._lock = threading.Lock()
        self.who: Any = None

    # -- SFTP ------------------------------------------------------------------------------------
    def sftp(self) -> paramiko.SFTPClient:
        """The session's SFTP client (opened on first use, operation timeout set on its channel)."""
        import paramiko
        with self._lock:
            if self._sftp is None:
                try:
                    self._sftp = paramiko.SFTPClient.from_transport(
                        self.transport, window_size=WINDOW_SIZE, max_packet_size=MAX_PACKET_SIZE)
                except Exception as exc:
                    es, en = sshfault.reason(exc, self.cfg.timeout_s)
                    raise sshfault.fault(self.cfg.host, self.cfg.port, "sftp", es, en) from exc
                self._sftp.get_channel().settimeout(self.cfg.timeout_s)
            return self._sftp

    def new_sftp(self) -> paramiko.SFTPClient:
        """A separate SFTP channel (the upload engine uses its own, so a stuck write cannot block cleanup)."""
        import paramiko
        sftp = paramiko.SFTPClient.from_transport(self.transport, window_size=WINDOW_SIZE,
                                                  max_packet_size=MAX_PACKET_SIZE)
        sftp.get_channel().settimeout(self.cfg.timeout_s)
        return sftp

    def statvfs(self, path: str) -> StatVfs:
        """Send the ``statvfs@openssh.com`` extended request (paramiko has no public API for it)."""
        from paramiko.sftp import CMD_EXTENDED, CMD_EXTENDED_REPLY
        sftp = self.sftp()
        t, msg = sftp._request(CMD_EXTENDED, "statvfs@openssh.com", path)   # IOError on a status reply
        if t != CMD_EXTENDED_REPLY:
            raise IOError(f"unexpected SFTP reply type {t} to statvfs@openssh.com")
        return StatVfs(*(msg.get_int64() for _ in range(11)))

    # -- shell -----------------------------------------------------------------------------------
    def run(self, command: str, timeout: float | None = None) -> CommandResult:
        """Run a command on the shell account; output capped; raises CheckError on timeout."""
        timeout = timeout or self.cfg.timeout_s
        chan = self.transport.open_session(timeout=timeout)
        try:
            chan.settimeout(timeout)
            chan.exec_command(command)
            chan.shutdown_write()
            out, err = bytearray(), bytearray()
            deadline = time.monotonic() + timeout
            while True:
                busy = False
                if chan.recv_ready():
                    out += chan.recv(65536)
                    busy = True
                if chan.recv_stderr_ready():
                    err += chan.recv_stderr(65536)
                    busy = True
                if not busy:
                    if chan.exit_status_ready() and not chan.recv_ready() and not chan.recv_stderr_ready():
                        break
                    if chan.closed or chan.eof_received and chan.exit_status_ready():
                        break
                    if time.monotonic() > deadline:
                        raise CheckError(f"La orden «{command}» no terminó en {timeout:g} s.",
                                         f"The command '{command}' did not finish within {timeout:g} s.")
                    time.sleep(0.005)
            status = chan.recv_exit_status() if chan.exit_status_ready() else None
            return CommandResult(command, status, bytes(out[:OUTPUT_CAP]).decode("utf-8", "replace"),
                                 bytes(err[:OUTPUT_CAP]).decode("utf-8", "replace"))
        finally:
            chan.close()

    def close(self) -> None:
        with self._lock:
            if self._sftp is not None:
                try:
                    self._sftp.close()
                except Exception:
                    pass
                self._sftp = None
        self.transport.close()


# -- connecting -------------------------------------------------------------------------------------

def _load_known_hosts(path: str) -> paramiko.HostKeys:
    import paramiko
    hk = paramiko.HostKeys()
    if os.path.exists(path):
        try:
            hk.load(path)
        except Exception as exc:
            raise CheckError(f"No se pudo leer known_hosts ({path}): {exc}",
                             f"Could not read known_hosts ({path}): {exc}") from exc
    return hk


def _preferred_key_types(transport: paramiko.Transport, known: list[str]) -> tuple[str, ...]:
    """Ask first for the key types known_hosts holds for this host (as OpenSSH does)."""
    supported = list(transport.get_security_options().key_types)
    first: list[str] = []
    for kt in known:
        for alg in _ALGS_OF_KEYTYPE.get(kt, (kt,)):
            if alg in supported and alg not in first:
                first.append(alg)
    return tuple(first + [a for a in supported if a not in first])


def _record_host_key(path: str, name: str, key: paramiko.PKey) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as fh:
        fh.write(f"{name} {key.get_name()} {key.get_base64()}\n")


def verify_host_key(cfg: Ssh, key: paramiko.PKey) -> str:
    """``known`` if known_hosts holds this key for the host, ``recorded`` if recorded now (opt-in).

    Raises ``CheckError`` (verdict ERROR) for a changed key or an unknown one without the opt-in,
    with both fingerprints in the evidence.
    """
    name = host_entry_name(cfg.host, cfg.port)
    hk = _load_known_hosts(cfg.known_hosts)
    entry = hk.lookup(name)
    presented = {"type": key.get_name(), "fingerprint": fingerprint(key)}
    if entry:
        expected = [{"type": t, "fingerprint": fingerprint(k)} for t, k in entry.items()]
        same_type = entry.get(key.get_name())
        if same_type is not None and same_type.asbytes() == key.asbytes():
            return "known"
        if same_type is not None:
            raise CheckError(
                f"¡La clave de host de {name} CAMBIÓ! Presentada {presented['fingerprint']}, "
                f"esperada {fingerprint(same_type)} (known_hosts). No se envió ninguna credencial.",
                f"Host key of {name} CHANGED! Presented {presented['fingerprint']}, expected "
                f"{fingerprint(same_type)} (known_hosts). No credential was sent.",
                host=name, presented_key=presented, expected_keys=expected, known_hosts=cfg.known_hosts,
                host_key_status="changed")
        raise CheckError(
            f"La clave de host de {name} ({presented['type']} {presented['fingerprint']}) no es ninguna de "
            f"las registradas en known_hosts ({', '.join(e['type'] + ' ' + e['fingerprint'] for e in expected)}).",
            f"Host key of {name} ({presented['type']} {presented['fingerprint']}) is none of those in "
            f"known_hosts ({', '.join(e['type'] + ' ' + e['fingerprint'] for e in expected)}).",
            host=name, presented_key=presented, expected_keys=expected, known_hosts=cfg.known_hosts,
            host_key_status="mismatch")
    if cfg.accept_new_host_key:
        _record_host_key(cfg.known_hosts, name, key)
        return "recorded"
    raise CheckError(
        f"Clave de host desconocida para {name}: {presented['type']} {presented['fingerprint']} no está en "
        f"known_hosts ({cfg.known_hosts}); verifíquela con el difusor y agréguela (o use "
        f"ssh.accept_new_host_key: true para registrarla la primera vez).",
        f"Unknown host key for {name}: {presented['type']} {presented['fingerprint']} is not in known_hosts "
        f"({cfg.known_hosts}); verify it with the difusor and add it (or set ssh.accept_new_host_key: true "
        f"to record it on first contact).",
        host=name, presented_key=presented, expected_keys=[], known_hosts=cfg.known_hosts,
        host_key_status="unknown")


def _secret(cfg: Ssh, who: Any, name: str | None, what_es: str, what_en: str) -> str | None:
    """A password or key passphrase, through ``trust.secret``: only for ``cfg.host``, only with consent."""
    return trust_mod.secret(who, name, cfg.host, f"{what_es} / {what_en}", kind="password")


def load_client_key(cfg: Ssh, who: Any = None) -> paramiko.PKey | None:
    import paramiko
    if not cfg.key_file:
        return None
    passphrase = _secret(cfg, who, cfg.key_passphrase_env, "frase de la clave", "key passphrase")
    try:
        return paramiko.PKey.from_path(cfg.key_file, passphrase.encode() if passphrase is not None else None)
    except paramiko.PasswordRequiredException:
        raise CheckError(f"La clave {cfg.key_file} está cifrada: indique ssh.key_passphrase_env.",
                         f"Key {cfg.key_file} is encrypted: set ssh.key_passphrase_env.") from None
    except TypeError as exc:           # paramiko 5 / cryptography: "password-protected, but no password"
        if passphrase is None and "password" in str(exc):
            raise CheckError(f"La clave {cfg.key_file} está cifrada: indique ssh.key_passphrase_env.",
                             f"Key {cfg.key_file} is encrypted: set ssh.key_passphrase_env.") from None
        raise CheckError(f"No se pudo leer la clave {cfg.key_file}: {type(exc).__name__}",
                         f"Could not load key {cfg.key_file}: {type(exc).__name__}") from None
    except paramiko.PasswordRequiredException:
        raise CheckError(f"La clave {cfg.key_file} está cifrada: indique ssh.key_passphrase_env.",
                         f"Key {cfg.key_file} is encrypted: set ssh.key_passphrase_env.") from None
    except (paramiko.SSHException, OSError, ValueError) as exc:
        raise CheckError(f"No se pudo leer la clave {cfg.key_file}: {type(exc).__name__}",
                         f"Could not load key {cfg.key_file}: {type(exc).__name__}") from None


def connect(cfg: Ssh, sock: Any = None, who: Any = None) -> SshSession:
    """Connect, verify the host key, authenticate; every failure is a ``CheckError`` (ERROR).

    ``sock`` (a socket-like object, e.g. ``paramiko.ProxyCommand``) replaces the TCP connection.
    ``who`` (the profile, or a ``trust.Trust``) is whose consent a password or key passphrase needs
    (``trust.secret``): without it none is read, and nothing is sent (``TrustRefused``).
    """
    import paramiko
    where = f"{cfg.username}@{cfg.host}:{cfg.port}"
    key = load_client_key(cfg, who)
    password = _secret(cfg, who, cfg.password_env, "contraseña SSH", "SSH password") if not key else None
    started = time.perf_counter()
    if sock is None:
        try:
            sock = socket.create_connection((cfg.host, cfg.port), timeout=cfg.timeout_s)
        except OSError as exc:
            es, en = sshfault.reason(exc, cfg.timeout_s)
            raise sshfault.fault(cfg.host, cfg.port, "tcp", es, en) from None
        sock.settimeout(cfg.timeout_s)
        try:
            sshfault.check_banner(sock, cfg.host, cfg.port, cfg.timeout_s)   # silent or not SSH: said so
        except CheckError:
            sock.close()
            raise
    t = paramiko.Transport(sock, default_window_size=WINDOW_SIZE, default_max_packet_size=MAX_PACKET_SIZE)
    ok = False
    try:
        t.banner_timeout = t.handshake_timeout = t.auth_timeout = cfg.timeout_s
        opts = t.get_security_options()
        opts.ciphers = tuple(c for c in PREFERRED_CIPHERS if c in opts.ciphers) + tuple(
            c for c in opts.ciphers if c not in PREFERRED_CIPHERS)
        known = _load_known_hosts(cfg.known_hosts).lookup(host_entry_name(cfg.host, cfg.port))
        opts.key_types = _preferred_key_types(t, list(known.keys()) if known else [])
        try:
            t.start_client(timeout=cfg.timeout_s)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            phase = "kex" if t.remote_version else "banner"
            es, en = sshfault.reason(exc, cfg.timeout_s)
            if "banner" in str(exc).lower() and phase == "banner":
                es, en = (f"banner inválido o ausente ({exc})", f"invalid or missing banner ({exc})")
            raise sshfault.fault(cfg.host, cfg.port, phase, es, en, server_banner=t.remote_version or None) from None
        server_key = t.get_remote_server_key()
        status = verify_host_key(cfg, server_key)          # before any credential leaves this machine
        try:
            if key is not None:
                t.auth_publickey(cfg.username, key)
                auth = "publickey"
            else:
                t.auth_password(cfg.username, password or "")
                auth = "password"
        except paramiko.AuthenticationException as exc:
            allowed = list(getattr(exc, "allowed_types", []) or [])
            how = f"clave {fingerprint(key)}" if key else "contraseña"
            how_en = f"key {fingerprint(key)}" if key else "password"
            raise CheckError(f"{where} rechazó la autenticación ({how}).",
                             f"{where} refused authentication ({how_en}).",
                             user=cfg.username, host=cfg.host, port=cfg.port, allowed_methods=allowed) from None
        except (paramiko.SSHException, EOFError, OSError) as exc:
            es, en = sshfault.reason(exc, cfg.timeout_s)
            raise sshfault.fault(cfg.host, cfg.port, "auth", es, en, user=cfg.username) from None
        if not t.is_authenticated():
            raise CheckError(f"{where}: autenticación incompleta (¿se requiere otro factor?).",
                             f"{where}: authentication incomplete (another factor required?).")
        info = SshInfo(cfg.host, cfg.port, cfg.username, t.remote_version, server_key.get_name(),
                       fingerprint(server_key), status, t.local_cipher, auth,
                       round(time.perf_counter() - started, 3))
        ok = True
        sess = SshSession(cfg, t, info)
        sess.who = who                   # a reconnect (cleanup) asks with the same consent
        return sess
    finally:
        if not ok:
            t.close()


# -- observations -----------------------------------------------------------------------------------

def observe_os(session: SshSession) -> OsObservation:
    """``uname -s``/``-r`` on a shell account, Windows ``ver`` when uname is missing; banner always."""
    import paramiko
    banner = session.info.server_banner
    if not session.cfg.shell:
        return OsObservation(banner=banner, shell=False)
    errors: list[str] = []
    try:
        r = session.run("uname -s; uname -r")
        lines = [ln.strip() for ln in r.stdout.splitlines() if ln.strip()]
        if r.exit_status == 0 and len(lines) >= 2:
            return OsObservation(banner, uname_s=lines[0], uname_r=lines[1])
        errors.append(f"uname: exit {r.exit_status} {r.stderr.strip()[:200]}")
        for cmd in ("cmd /c ver", "ver"):
            w = session.run(cmd)
            text = w.stdout.strip()
            if w.exit_status == 0 and text:
                return OsObservation(banner, ver=text[:300], errors=tuple(errors))
            errors.append(f"{cmd}: exit {w.exit_status} {w.stderr.strip()[:200]}")
    except CheckError as exc:
        errors.append(exc.summary_en)
    except (paramiko.SSHException, OSError, EOFError) as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    return OsObservation(banner, shell=True, errors=tuple(errors))


def _df(session: SshSession, path: str) -> DiskObservation:
    r = session.run(f"df -Pk -- {shlex.quote(path)}")
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    if r.exit_status == 0 and len(lines) >= 2:
        cols = lines[-1].split()
        # Filesystem 1024-blocks Used Available Capacity Mounted-on (POSIX -P format)
        if len(cols) >= 6 and cols[1].isdigit() and cols[3].isdigit():
            return DiskObservation(path, "df -Pk", int(cols[3]) * 1024, int(cols[1]) * 1024,
                                   raw="\n".join(lines[-2:]))
    missing = "No such file" in r.stderr
    return DiskObservation(path, "df -Pk", None, raw=(r.stdout + r.stderr).strip()[:500],
                           error=(r.stderr.strip() or f"exit {r.exit_status}")[:300], missing=missing)


def _statvfs(session: SshSession, path: str) -> DiskObservation:
    import paramiko
    try:
        st = session.statvfs(path)
    except FileNotFoundError as exc:
        return DiskObservation(path, "statvfs@openssh.com", None, error=str(exc), missing=True)
    except (IOError, OSError, paramiko.SSHException) as exc:
        return DiskObservation(path, "statvfs@openssh.com", None, error=f"{type(exc).__name__}: {exc}")
    raw = {k: getattr(st, k) for k in ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail")}
    unit = st.f_frsize or st.f_bsize          # POSIX: counts are in f_frsize units (0 on a few servers)
    return DiskObservation(path, "statvfs@openssh.com", st.f_bavail * unit, st.f_blocks * unit, raw=raw)


def observe_disk(session: SshSession, path: str | None = None) -> DiskObservation:
    """Free space of ``upload_dir``: ``df -Pk`` on a shell account, else (or if df fails) statvfs."""
    import paramiko
    path = path or session.cfg.upload_dir
    if session.cfg.shell:
        try:
            obs = _df(session, path)
        except (CheckError, paramiko.SSHException, OSError, EOFError) as exc:
            obs = DiskObservation(path, "df -Pk", None, error=str(exc))
        if obs.avail_bytes is not None or obs.missing:
            return obs
        alt = _statvfs(session, path)
        return alt if alt.avail_bytes is not None else obs
    return _statvfs(session, path)


def is_dir(session: SshSession, path: str) -> bool | None:
    """True/False if the path is/is not a directory; None if it does not exist."""
    try:
        return stat_mod.S_ISDIR(session.sftp().stat(path).st_mode or 0)
    except FileNotFoundError:
        return None
