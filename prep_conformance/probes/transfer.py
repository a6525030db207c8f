"""II.1.d upload measurement: timed SFTP uploads of a probe into ``ssh.scratch_dir``, always removed.

Two engines, so that our client is not what limits the figure (issue 5):
* ``openssh``: OpenSSH's own ``sftp -b`` (the reference the figure is compared with), one session for
  every round; each round is timed from the moment sftp echoes ``put`` to the moment it echoes the
  next command (sftp flushes its batch echo), so login is not counted as upload time. Host keys are
  checked by OpenSSH against the same known_hosts (``StrictHostKeyChecking=yes``, ``BatchMode=yes``).
* ``paramiko``: for a passphrase-protected key or a password account: AES-GCM, 261120-byte write
  requests (the largest sftp-server accepts), pipelined 1 MiB writes, a 64 MiB window.

The probe files are removed after each round, again in ``finally`` (also on Ctrl-C/SIGTERM, through
``probes.guard``, and through a fresh connection if the first one died), and their absence is verified.
The client's own limit is known from its CPU share during the transfer and from an in-process AES-GCM
self-test.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import stat as stat_mod
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:   # paramiko (~0.1 s) loads where a connection is made, not in runs that make none
    import paramiko

from .. import trust
from ..errors import CheckError
from ..profile import Ssh
from . import ssh as ssh_probe
from . import sshfault
from .guard import Guard

PROBE_PREFIX = "prep-probe-"
CHUNK = 1024 * 1024
MAX_REQUEST_SIZE = 261120
MB = 10**6
STALE_S = 3600              # a probe folder untouched this long is a leftover of a killed run, safe to remove


@dataclass(frozen=True)
class UploadRound:
    """One timed upload. Attributes: bytes, seconds (transfer only), mb_s (10^6 B/s), ok, error."""

    index: int
    bytes: int
    seconds: float | None
    mb_s: float | None
    ok: bool
    error: str | None = None
    error_es: str | None = None     # the same in Spanish when the probe could say it (``probes.sshfault``)


@dataclass(frozen=True)
class UploadObservation:
    """The upload measurement and what it cost.

    Attributes:
        engine: ``openssh`` (OpenSSH ``sftp -b``) or ``paramiko``.
        cipher: client→server cipher used by the engine.
        probe_bytes, rounds: the probe size and the rounds done (each with bytes and seconds).
        median_mb_s: median MB/s of the successful rounds (None if none succeeded).
        upload_dir, scratch_dir: where the probes went.
        setup: None, or why no round could start: ``missing`` (upload_dir absent), ``not_dir``,
            ``not_writable``, ``no_space`` (less free space than one probe), ``engine`` (client failure).
        setup_detail: the server's message for ``setup``.
        disk_full: a round failed because the disk filled up.
        client_cpu_s, wall_s: CPU seconds our client used and the transfer seconds it spanned.
        client_cpu_share: client_cpu_s / wall_s (≥ 0.8 means one core was saturated: our limit).
        client_ceiling_mb_s: this machine's own ceiling for the engine (``self_test``: an upload to a
            private sshd over a pipe, no network); ``selftest`` its details.
        login_s: session setup time (not counted in the figure).
        end_to_end_mb_s: bytes of all rounds over the whole session wall time, login included.
        cleanup: removed paths, verified (all absent afterwards), leftovers.
        fallback: why the preferred engine was not used.
        round_budget_s: a round running longer was stopped (``stop_below_mb_s``).
        stopped_early: ``{"round", "after_s", "below_mb_s"}`` when a round was stopped by that budget.
    """

    engine: str
    cipher: str | None
    probe_bytes: int
    rounds: tuple[UploadRound, ...]
    median_mb_s: float | None
    upload_dir: str
    scratch_dir: str
    setup: str | None = None
    setup_detail: str | None = None
    disk_full: bool = False
    client_cpu_s: float | None = None
    wall_s: float | None = None
    client_cpu_share: float | None = None
    client_ceiling_mb_s: float | None = None
    selftest: dict = field(default_factory=dict)
    login_s: float | None = None
    end_to_end_mb_s: float | None = None
    cleanup: dict = field(default_factory=dict)
    fallback: str | None = None
    round_budget_s: float | None = None
    stopped_early: dict | None = None


# -- client ceiling ------------------------------------------------------------------------------------

_SELFTEST: dict[str, dict[str, Any]] = {}


def self_test(engine: str, megabytes: int = 64) -> dict[str, Any]:
    """This machine's own ceiling for ``engine``: an upload to a private ``sshd -i`` over a pipe.

    No network is involved (the server is a child process speaking over stdin/stdout), so the figure
    is what our client and this CPU can do at best; a measured rate near it is our limit, not the link's.
    """
    import paramiko
    if engine in _SELFTEST:
        return _SELFTEST[engine]
    sshd = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
    if not sshd or not shutil.which("ssh-keygen"):
        out = {"mb_s": None, "error": "sshd/ssh-keygen not installed here: no self-test"}
        _SELFTEST[engine] = out
        return out
    tmp = tempfile.mkdtemp(prefix="prep-selftest-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        if os.geteuid() == 0 and not os.path.isdir("/run/sshd"):
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        for name in ("host", "client"):
            subprocess.run(trust.own_command(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{tmp}/{name}"]),
                           check=True,
                           capture_output=True, timeout=30)
        shutil.copy(f"{tmp}/client.pub", f"{tmp}/ak")
        with open(f"{tmp}/sshd.conf", "w") as fh:
            fh.write(f"HostKey {tmp}/host\nAuthorizedKeysFile {tmp}/ak\nStrictModes no\nUsePAM no\n"
                     "Subsystem sftp internal-sftp\nLogLevel QUIET\nPermitRootLogin prohibit-password\n"
                     "PasswordAuthentication no\nKbdInteractiveAuthentication no\n")
        host_pub = open(f"{tmp}/host.pub").read().split()
        with open(f"{tmp}/kh", "w") as fh:
            fh.write(f"selftest {host_pub[0]} {host_pub[1]}\n")
        import getpass
        cfg = Ssh(host="selftest", username=getpass.getuser(), key_file=f"{tmp}/client", known_hosts=f"{tmp}/kh",
                  upload_dir=tmp, timeout_s=20, probe_mb=megabytes, rounds=2)
        proxy = f"{sshd} -i -f {tmp}/sshd.conf"
        paths = [f"{tmp}/up-1", f"{tmp}/up-2"]
        nbytes = megabytes * MB
        if engine == "openssh":
            res = _openssh_rounds(cfg, paths, nbytes, lambda p: None,
                                  ("-o", f"ProxyCommand={proxy}", "-o", "HostKeyAlias=selftest"))
        else:
            sess = ssh_probe.connect(cfg, sock=paramiko.ProxyCommand(proxy))
            try:
                res = _paramiko_rounds(sess, paths, nbytes)
            finally:
                sess.close()
        ok = [r.mb_s for r in res.rounds if r.ok]
        out = {"mb_s": round(statistics.median(ok), 1) if ok else None, "cipher": res.cipher,
               "method": "upload to a private sshd -i over a pipe (no network)", "probe_bytes": nbytes}
        if not ok:
            out["error"] = (res.fatal or "; ".join(r.error or "" for r in res.rounds))[:300]
    except Exception as exc:            # the self-test informs; it never decides a verdict by itself
        out = {"mb_s": None, "error": f"{type(exc).__name__}: {exc}"[:300]}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _SELFTEST[engine] = out
    return out


# -- helpers -------------------------------------------------------------------------------------------

def scratch_of(cfg: Ssh) -> str:
    return cfg.scratch_dir or cfg.upload_dir.rstrip("/") + "/.conformance"


def choose_engine(cfg: Ssh) -> tuple[str, str | None]:
    """(engine, why not openssh). OpenSSH in BatchMode needs an unencrypted key file."""
    if cfg.upload_engine == "paramiko":
        return "paramiko", "profile: upload_engine paramiko"
    why = None
    if not shutil.which("sftp"):
        why = "OpenSSH sftp client not installed"
    elif not cfg.key_file:
        why = "password account (OpenSSH BatchMode cannot take a password)"
    elif cfg.key_passphrase_env:
        why = "key with passphrase (OpenSSH BatchMode cannot take it)"
    if why and cfg.upload_engine == "openssh":
        raise CheckError(f"Motor openssh no disponible: {why}", f"openssh engine unavailable: {why}")
    return ("paramiko", why) if why else ("openssh", None)


def _is_enospc(text: str) -> bool:
    return bool(re.search(r"No space left|ENOSPC|disk full|quota", text or "", re.I))


def _free_bytes(session: ssh_probe.SshSession, path: str) -> int | None:
    try:
        st = session.statvfs(path)
        return st.f_bavail * st.f_frsize
    except Exception:
        return None


def _local_probe(nbytes: int) -> str:
    """A local file of ``nbytes`` (random 4 MiB block repeated: incompressible at the SSH layer)."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") and shutil.disk_usage("/dev/shm").free > 2 * nbytes else None
    fd, path = tempfile.mkstemp(prefix=PROBE_PREFIX, dir=base)
    block = os.urandom(4 * CHUNK)
    with os.fdopen(fd, "wb") as fh:
        left = nbytes
        while left > 0:
            n = min(left, len(block))
            fh.write(block[:n])
            left -= n
    return path


def _quote_batch(path: str) -> str:
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- engines -------------------------------------------------------------------------------------------

@dataclass
class _EngineResult:
    rounds: list[UploadRound]
    cipher: str | None = None
    cpu_s: float | None = None
    login_s: float | None = None
    session_wall_s: float | None = None
    fatal: str | None = None          # the engine itself failed before any round (login, client error)
    free_at_failure: int | None = None  # free bytes right after a failed round, before its probe is removed
    too_slow: tuple[float, float] | None = None   # (seconds, MB/s upper bound) of a round stopped by its budget


def _openssh_argv(cfg: Ssh, batch: str) -> list[str]:
    t = max(5, int(cfg.timeout_s))
    return ["sftp", "-v", "-b", batch, "-F", "/dev/null", "-P", str(cfg.port), "-i", cfg.key_file,
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={cfg.known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "CheckHostIP=no", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
            "-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no",
            "-o", f"ConnectTimeout={t}", "-o", f"ServerAliveInterval={t}", "-o", "ServerAliveCountMax=2",
            "-o", "Compression=no", "-o", "Ciphers=^aes128-gcm@openssh.com,aes256-gcm@openssh.com",
            f"{cfg.username}@[{cfg.host}]" if ":" in cfg.host else f"{cfg.username}@{cfg.host}"]


def _openssh_rounds(cfg: Ssh, remote_paths: list[str], nbytes: int, track: Callable[[subprocess.Popen], None],
                    extra: tuple[str, ...] = (), round_budget_s: float | None = None) -> _EngineResult:
    local = _local_probe(nbytes)
    batch_fd, batch = tempfile.mkstemp(prefix=PROBE_PREFIX, suffix=".batch")
    try:
        with os.fdopen(batch_fd, "w") as fh:
            for rp in remote_paths:
                fh.write(f"put {_quote_batch(local)} {_quote_batch(rp)}\n-rm {_quote_batch(rp)}\n")
        argv = _openssh_argv(cfg, batch)
        argv[1:1] = list(extra)
        t0 = time.perf_counter()
        proc = subprocess.Popen(trust.own_command(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE,
                                start_new_session=True)        # a terminal Ctrl-C reaches us, we stop it
        track(proc)
        err_chunks: list[bytes] = []
        err_thread = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)
        err_thread.start()
        marks: list[tuple[float, str]] = []
        stopped: dict[str, float] = {}
        done = threading.Event()

        def watchdog() -> None:
            """Stop sftp when login hangs or a round runs past its budget (the link is then too slow)."""
            login_limit = 3 * cfg.timeout_s
            while not done.wait(0.2):
                now = time.perf_counter() - t0
                last = marks[-1] if marks else None
                late = (last is None and now > login_limit) or (
                    round_budget_s is not None and last is not None and last[1].startswith("put ")
                    and now - last[0] > round_budget_s)
                if late and proc.poll() is None:
                    stopped.update(at=now, since=(now - last[0]) if last else now, login=float(last is None))
                    try:
                        os.killpg(proc.pid, signal.SIGTERM)
                    except (ProcessLookupError, PermissionError):
                        pass
                    return
        wd = threading.Thread(target=watchdog, daemon=True)
        wd.start()
        try:
            for line in iter(proc.stdout.readline, b""):
                if line.startswith(b"sftp> "):
                    marks.append((time.perf_counter() - t0, line[6:].decode("utf-8", "replace").strip()))
        finally:
            done.set()
        _, status, ru = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        end = time.perf_counter() - t0
        err_thread.join(5)
        stderr = b"".join(err_chunks).decode("utf-8", "replace")
        m = re.search(r"kex: client->server cipher: (\S+)", stderr)
        cipher = m.group(1) if m else None
        errors = [ln for ln in stderr.splitlines() if not ln.startswith("debug") and ln.strip()
                  and not ln.startswith("Connected to") and not ln.startswith("Authenticated to")
                  and not ln.startswith("Transferred:") and not ln.startswith("Bytes per second")]
        res = _EngineResult([], cipher, ru.ru_utime + ru.ru_stime, marks[0][0] if marks else None, end)
        if not marks:
            res.fatal = ("; ".join(errors) or f"sftp exit {proc.returncode}")[:500]
            if stopped:
                res.fatal = f"no login within {stopped['at']:.0f} s; " + res.fatal
            return res
        if stopped and not stopped.get("login"):
            errors = [f"stopped: round still running after {stopped['since']:.1f} s (budget {round_budget_s:.1f} s)"]
            res.too_slow = (stopped["since"], nbytes / stopped["since"] / MB)
        puts = [(i, t_) for i, (t_, cmd) in enumerate(marks) if cmd.startswith("put ")]
        for k, (i, t_start) in enumerate(puts):
            t_end = marks[i + 1][0] if i + 1 < len(marks) else None
            if t_end is not None:
                secs = t_end - t_start
                res.rounds.append(UploadRound(k + 1, nbytes, round(secs, 4), round(nbytes / secs / MB, 2), True))
            else:   # the last command echoed was this put and sftp stopped: it failed
                msg = "; ".join(errors)[:400] or f"sftp exit {proc.returncode}"
                low = msg.lower()
                if any(w in low for w in ("closed", "broken pipe", "reset", "disconnect", "lost connection")):
                    es, en = sshfault.reason(EOFError())
                    msg_es = f"SSH {cfg.host}:{cfg.port}, carga: {es} durante la ronda ({msg})"
                    msg = f"SSH {cfg.host}:{cfg.port}, upload: {en} during the round ({msg})"
                else:
                    msg_es, msg = f"SSH {cfg.host}:{cfg.port}, carga: {msg}", f"SSH {cfg.host}:{cfg.port}, upload: {msg}"
                res.rounds.append(UploadRound(k + 1, nbytes, None, None, False, msg, msg_es))
        if proc.returncode != 0 and all(r.ok for r in res.rounds) and len(res.rounds) < len(remote_paths):
            res.rounds.append(UploadRound(len(res.rounds) + 1, nbytes, None, None, False,
                                          ("; ".join(errors) or f"sftp exit {proc.returncode}")[:500]))
        return res
    finally:
        for f in (local, batch):
            try:
                os.unlink(f)
            except OSError:
                pass


class _TooSlow(Exception):
    pass


def _paramiko_rounds(session: ssh_probe.SshSession, remote_paths: list[str], nbytes: int,
                     round_budget_s: float | None = None) -> _EngineResult:
    import paramiko
    block = memoryview(os.urandom(CHUNK))
    sftp = session.new_sftp()
    res = _EngineResult([], session.transport.local_cipher, login_s=0.0)
    sent_at_fail = [0]              # bytes handed to the channel in the round that failed
    cpu0, w0 = time.process_time(), time.perf_counter()
    try:
        for k, rp in enumerate(remote_paths):
            t0 = time.perf_counter()
            try:
                fh = sftp.open(rp, "wb")
                try:
                    fh.MAX_REQUEST_SIZE = MAX_REQUEST_SIZE
                    fh.set_pipelined(True)
                    left = nbytes
                    sent_at_fail[0] = 0
                    while left > 0:
                        n = min(left, CHUNK)
                        fh.write(block[:n])
                        left -= n
                        sent_at_fail[0] = nbytes - left
                        if round_budget_s is not None and time.perf_counter() - t0 > round_budget_s:
                            raise _TooSlow(time.perf_counter() - t0)
                    fh.flush()
                    # paramiko drops the status of pipelined writes it has not waited for (a full disk
                    # would pass silently): wait for every outstanding one; an error status raises IOError.
                    while fh._reqs:
                        sftp._read_response(fh._reqs.popleft())
                finally:
                    fh.close()
                secs = time.perf_counter() - t0
                size = sftp.stat(rp).st_size
                if size != nbytes:
                    raise IOError(f"short write: the server stored {size} of {nbytes} bytes")
                res.rounds.append(UploadRound(k + 1, nbytes, round(secs, 4), round(nbytes / secs / MB, 2), True))
            except _TooSlow as slow:
                secs = slow.args[0]
                res.rounds.append(UploadRound(k + 1, nbytes, None, None, False,
                                              f"stopped: round still running after {secs:.1f} s "
                                              f"(budget {round_budget_s:.1f} s)"))
                res.too_slow = (secs, nbytes / secs / MB)   # upper bound: not all bytes were even sent
                break
            except (IOError, OSError, paramiko.SSHException, EOFError) as exc:
                if session.transport.is_active() and isinstance(exc, IOError) and str(exc).strip():
                    res.rounds.append(UploadRound(k + 1, nbytes, None, None, False,
                                                  f"{type(exc).__name__}: {exc}"[:500]))
                else:       # the connection itself went: say where, after how much, and why
                    cfg = session.cfg
                    es, en = sshfault.upload_error(cfg.host, cfg.port, exc, sent_at_fail[0], nbytes, cfg.timeout_s)
                    res.rounds.append(UploadRound(k + 1, nbytes, None, None, False, en[:500], es[:500]))
                res.free_at_failure = _free_bytes(session, rp.rsplit("/", 1)[0] or "/")
                break
            finally:
                try:
                    sftp.remove(rp)
                except (IOError, OSError, paramiko.SSHException, EOFError):
                    pass
    finally:
        res.cpu_s = time.process_time() - cpu0
        res.session_wall_s = time.perf_counter() - w0
        try:
            sftp.close()
        except Exception:
            pass
    return res


# -- the measurement -----------------------------------------------------------------------------------

def _remove_stale(sftp: paramiko.SFTPClient, scratch: str) -> None:
    """Probe folders of runs killed with SIGKILL (ours by name), only when older than ``STALE_S``."""
    try:
        entries = sftp.listdir_attr(scratch)
    except (IOError, OSError):
        return
    for a in entries:
        if not (a.filename.startswith(PROBE_PREFIX) and a.st_mtime and a.st_mtime < time.time() - STALE_S):
            continue
        path = f"{scratch}/{a.filename}"
        try:
            if stat_mod.S_ISDIR(a.st_mode or 0):
                for f in sftp.listdir(path):
                    if f.startswith(PROBE_PREFIX):
                        sftp.remove(f"{path}/{f}")
                sftp.rmdir(path)
            else:
                sftp.remove(path)
        except (IOError, OSError):
            pass


def _cleanup(session: ssh_probe.SshSession, cfg: Ssh, scratch: str, paths: list[str], made_scratch: bool,
             run_dir: str | None = None) -> dict[str, Any]:
    """Remove every probe (and the scratch dir if we made it); verify they are gone."""
    s = session
    if not session.transport.is_active():
        try:
            s = ssh_probe.connect(cfg, who=getattr(session, "who", None))
        except CheckError as exc:
            return {"removed": [], "verified": False, "leftover": paths + [run_dir or scratch],
                    "error": exc.summary_en}
    try:
        sftp = s.new_sftp()
    except Exception as exc:
        sftp, err = None, f"{type(exc).__name__}: {exc}".rstrip(": ")
        if s is session:        # the transport only looked alive: the server had cut it an instant before
            try:
                s = ssh_probe.connect(cfg, who=getattr(session, "who", None))
                sftp = s.new_sftp()
            except CheckError as exc2:
                err = exc2.summary_en
            except Exception as exc2:  # noqa: BLE001 - said in the evidence; the verdict says not verified
                err = f"{type(exc2).__name__}: {exc2}".rstrip(": ")
        if sftp is None:
            if s is not session:
                s.close()
            return {"removed": [], "verified": False, "leftover": paths + [run_dir or scratch], "error": err}
    removed, leftover = [], []
    try:
        for p in paths:
            try:
                sftp.remove(p)
                removed.append(p)
            except FileNotFoundError:
                pass
            except (IOError, OSError):
                pass
        if run_dir:
            try:
                sftp.rmdir(run_dir)
            except (IOError, OSError):
                pass
            paths = paths + [run_dir]
        scratch_note = None
        if made_scratch:
            try:
                sftp.rmdir(scratch)
            except (IOError, OSError):
                try:    # another run (or a person) keeps files there: leave it, it is not ours alone
                    others = sftp.listdir(scratch)
                    scratch_note = f"kept: holds {len(others)} other file(s)" if others else "rmdir failed"
                except FileNotFoundError:
                    pass                          # another run removed it just now
                except (IOError, OSError) as exc:
                    scratch_note = f"rmdir failed: {exc}"
        for p in paths:
            try:
                sftp.stat(p)
                leftover.append(p)
            except FileNotFoundError:
                pass
            except (IOError, OSError) as exc:
                leftover.append(f"{p} ({exc})")
        if made_scratch and scratch_note is None:
            try:
                sftp.stat(scratch)
                scratch_note = "still present"
            except FileNotFoundError:
                pass
            except (IOError, OSError):
                pass
    finally:
        sftp.close()
        if s is not session:
            s.close()
    return {"removed": removed, "verified": not leftover, "leftover": leftover,
            "scratch_removed": made_scratch and scratch_note is None, "scratch_note": scratch_note}


class _NoRound(Exception):
    """No round could start: ``setup`` says why (``UploadObservation.setup``), ``detail`` the server's words."""

    def __init__(self, setup: str, detail: str):
        super().__init__(detail)
        self.setup, self.detail = setup, detail


def measure(session: ssh_probe.SshSession, cfg: Ssh | None = None, stop_below_mb_s: float | None = None
            ) -> UploadObservation:
    """Upload ``rounds`` probes of ``probe_mb`` MB into the scratch dir and time them; always clean up.

    ``stop_below_mb_s``: a round still running when it could no longer beat this rate is stopped (a
    slow link need not upload gigabytes to show it is slow); the observation says so with the bound.
    """
    cfg = cfg or session.cfg
    nbytes = int(cfg.probe_mb * MB)
    budget = nbytes / (stop_below_mb_s * MB) if stop_below_mb_s else None
    scratch = scratch_of(cfg)
    engine, fallback = choose_engine(cfg)
    base = dict(probe_bytes=nbytes, upload_dir=cfg.upload_dir, scratch_dir=scratch)
    sftp = session.sftp()
    try:
        _check_upload_dir(session, sftp, cfg, nbytes)
        run_dir, made_scratch = _make_run_dir(sftp, scratch)
    except _NoRound as no:
        return UploadObservation(engine, None, rounds=(), median_mb_s=None, setup=no.setup, setup_detail=no.detail,
                                 fallback=fallback, **base)
    # our default folder (not one the profile names) is removed when empty, whoever made it
    made_scratch = made_scratch or cfg.scratch_dir is None
    _remove_stale(sftp, scratch)
    paths = [f"{run_dir}/{PROBE_PREFIX}{i + 1}" for i in range(cfg.rounds)]
    procs: list[subprocess.Popen] = []

    def remove_everything() -> dict[str, Any]:
        _stop_procs(procs)
        return _cleanup(session, cfg, scratch, paths, made_scratch, run_dir)

    with Guard("the upload probe") as g:
        remove_probes = g.on_exit(remove_everything)
        try:
            res, engine, fallback = _rounds(session, cfg, engine, fallback, paths, nbytes, budget, procs)
            disk_full = _disk_filled(session, res, scratch)
        finally:
            cleanup = remove_probes()
    return _observation(res, engine, fallback, nbytes, budget, disk_full, cleanup, base)


def _check_upload_dir(session: ssh_probe.SshSession, sftp: paramiko.SFTPClient, cfg: Ssh, nbytes: int) -> None:
    """The upload dir exists, is a folder, and has room for one probe (when the free space is known)."""
    try:
        st = sftp.stat(cfg.upload_dir)
        if not stat_mod.S_ISDIR(st.st_mode or 0):
            raise _NoRound("not_dir", f"{cfg.upload_dir} is not a directory")
    except FileNotFoundError:
        raise _NoRound("missing", f"{cfg.upload_dir}: no such directory") from None
    except (IOError, OSError) as exc:
        raise _NoRound("not_writable" if isinstance(exc, PermissionError) else "engine",
                       f"{cfg.upload_dir}: {exc}") from None
    free = _free_bytes(session, cfg.upload_dir)
    if free is not None and free < nbytes + 4 * CHUNK:
        raise _NoRound("no_space", f"{free} bytes free < probe {nbytes} bytes")


def _make_run_dir(sftp: paramiko.SFTPClient, scratch: str) -> tuple[str, bool]:
    """(this run's own folder, whether we made the scratch folder). Each run writes into its own
    sub-folder <scratch>/prep-probe-<pid>-<hex>/, so concurrent runs (two reviewers, or xdist) never touch
    each other's files; the scratch folder itself is removed when empty."""
    run_dir = f"{scratch}/{PROBE_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    made_scratch = False
    for attempt in range(3):          # another run may remove an empty scratch folder between our two mkdirs
        try:
            sftp.mkdir(scratch, 0o700)
            made_scratch = True
        except (IOError, OSError) as exc:
            try:
                sftp.stat(scratch)
            except (IOError, OSError):
                raise _NoRound("not_writable", f"mkdir {scratch}: {exc}") from None
        try:
            sftp.mkdir(run_dir, 0o700)
            return run_dir, made_scratch
        except FileNotFoundError:
            continue
        except (IOError, OSError) as exc:
            raise _NoRound("not_writable", f"mkdir {run_dir}: {exc}") from None
    raise _NoRound("not_writable", f"mkdir {run_dir}: the scratch folder keeps disappearing")


def _stop_procs(procs: list[subprocess.Popen]) -> None:
    """Terminate the engine's ``sftp`` processes (their groups), killing what does not stop in 5 s."""
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)


def _rounds(session: ssh_probe.SshSession, cfg: Ssh, engine: str, fallback: str | None, paths: list[str],
            nbytes: int, budget: float | None, procs: list[subprocess.Popen]
            ) -> tuple[_EngineResult, str, str | None]:
    """The timed rounds with the chosen engine; OpenSSH failing before any upload falls back to paramiko."""
    if engine == "openssh":
        res = _openssh_rounds(cfg, paths, nbytes, procs.append, round_budget_s=budget)
        if not (res.fatal and not res.rounds):
            return res, engine, fallback
        fallback = f"OpenSSH sftp failed before uploading ({res.fatal}); tuned paramiko used"
        engine = "paramiko"
    return _paramiko_rounds(session, paths, nbytes, budget), engine, fallback


def _disk_filled(session: ssh_probe.SshSession, res: _EngineResult, scratch: str) -> bool:
    """A round failed because the disk filled up (the server said ENOSPC, or almost nothing is left)."""
    failed = [r for r in res.rounds if not r.ok]
    if not failed:
        return False
    free_now = res.free_at_failure if res.free_at_failure is not None else _free_bytes(session, scratch)
    return _is_enospc(failed[0].error or "") or (free_now is not None and free_now < 4 * CHUNK)


def _observation(res: _EngineResult, engine: str, fallback: str | None, nbytes: int, budget: float | None,
                 disk_full: bool, cleanup: dict[str, Any], base: dict[str, Any]) -> UploadObservation:
    """The figures of the rounds, the client's own ceiling, and why nothing was measured (if so)."""
    ok = [r for r in res.rounds if r.ok]
    ceiling = self_test(engine) if ok else {}
    median = round(statistics.median(r.mb_s for r in ok), 2) if ok else None
    transfer_s = sum(r.seconds for r in ok) or None
    span = transfer_s or res.session_wall_s
    share = round(res.cpu_s / span, 3) if res.cpu_s is not None and span else None
    e2e = round(len(ok) * nbytes / res.session_wall_s / MB, 2) if ok and res.session_wall_s else None
    setup, detail = None, None
    if res.fatal and not res.rounds:
        setup, detail = "engine", res.fatal
    elif not ok and res.rounds:
        err = res.rounds[0].error or ""
        if re.search(r"Permission denied|EACCES|PermissionError", err):
            setup, detail = "not_writable", err
    stopped = ({"round": len(res.rounds), "after_s": round(res.too_slow[0], 2),
                "below_mb_s": round(res.too_slow[1], 2)} if res.too_slow else None)
    return UploadObservation(engine, res.cipher, rounds=tuple(res.rounds), median_mb_s=median, setup=setup,
                             setup_detail=detail, disk_full=disk_full, client_cpu_s=round(res.cpu_s or 0, 3),
                             wall_s=round(span or 0, 3), client_cpu_share=share,
                             client_ceiling_mb_s=ceiling.get("mb_s"), selftest=ceiling,
                             login_s=round(res.login_s, 3) if res.login_s is not None else None,
                             end_to_end_mb_s=e2e, cleanup=cleanup, fallback=fallback,
                             round_budget_s=round(budget, 2) if budget else None, stopped_early=stopped, **base)
