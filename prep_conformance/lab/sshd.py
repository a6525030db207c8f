"""Lab component: OpenSSH sshd as a difusor runs it, for the SSH/SFTP checks (II.1.a, II.1.c, II.1.d).

Started as plain processes (no systemd), as root:
* one sshd on 127.0.0.1 (a free high port) and one inside each shaped network namespace (a veth pair
  with ``tc tbf`` on the host side, so uploads from the host are limited to the link's rate);
* a shell user and an SFTP-only chrooted user (``ForceCommand internal-sftp``), each with a key;
  a key sshd refuses, a key with a passphrase, a host key and an impostor host key;
* upload directories on tmpfs: a big one (> 20 GB free; tmpfs ``size=`` is a limit, not an
  allocation), a ~1 GB one, one not writable by the user, and the chroot's ``/upload``.

``stop()`` removes every process, namespace, mount and user it made (their names carry an instance
tag derived from the state folder, so two labs on one machine do not collide). State (keys, configs,
pids) lives under ``state_dir``, whose path must be root-owned and not group/world-writable up to ``/``
(sshd's rule for ``ChrootDirectory``), so not under /tmp.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SSHD = "/usr/sbin/sshd"
DEFAULT_STATE = "/var/lib/prep-lab-ssh"
PASSPHRASE_ENV = "PREP_LAB_SSH_PASSPHRASE"
LAB_PASSPHRASE = "lab-only passphrase, not a secret"   # the lab's own throwaway key
PASSWORD_ENV = "PREP_LAB_SSH_PASSWORD"
LAB_PASSWORD = "lab-only password, not a secret"       # the lab's password account (loopback only)


@dataclass(frozen=True)
class Link:
    """A shaped link: network namespace ``netns`` reached from the host through veth ``host_if``."""

    name: str
    rate_mbit: int
    netns: str
    host_if: str
    ns_if: str
    host_ip: str
    ns_ip: str


def _run(*argv: str, check: bool = True, timeout: float = 30, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), check=check, timeout=timeout, capture_output=True, text=True, **kw)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(host: str, port: int, timeout: float = 10) -> None:
    """Wait for an SSH banner (a namespace address is reached from the host through its veth)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1) as s:
                if s.recv(4).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"sshd did not answer on {host}:{port}")


def _root_chain_ok(d: Path) -> bool:
    """sshd's ChrootDirectory rule: every existing component root-owned, not group/world-writable."""
    for parent in [d, *d.parents]:
        if parent.exists():
            st = parent.stat()
            if st.st_uid != 0 or st.st_mode & 0o022:
                return False
    return True


class SshdLab:
    """The SSH part of the reference lab: ``start()``, ``stop()``, ``status()``, ``profile_ssh(scenario)``."""

    name = "sshd"

    def __init__(self, state_dir: str | os.PathLike = DEFAULT_STATE, links: dict[str, int] | None = None,
                 port: int = 0, register=None, spawn=None):
        self.dir = Path(state_dir).resolve() / "ssh" if Path(state_dir).name != "ssh" else Path(state_dir).resolve()
        self.tag = hashlib.sha1(str(self.dir).encode()).hexdigest()[:5]
        # hooks for the lab core: register(kind, value, **extra) BEFORE creating; spawn(name, argv) -> pid
        self._register = register
        self._spawn = spawn
        n = self._subnet_octet()                                   # 10.231.<n>.0/28 for this instance
        links = {"20mbs": 160, "60mbs": 480} if links is None else links
        self.links = {}
        for i, (lname, rate) in enumerate(links.items()):
            self.links[lname] = Link(lname, rate, f"pcssh-{self.tag}-{i}", f"pcs{self.tag}h{i}",
                                     f"pcs{self.tag}n{i}", f"10.231.{n}.{4 * i + 1}", f"10.231.{n}.{4 * i + 2}")
        self.shell_user = f"pcsh{self.tag}"
        self.sftp_user = f"pcsf{self.tag}"
        self.password_user = f"pcsp{self.tag}"
        self._port = port
        self.state_file = self.dir / "state.json"

    def _subnet_octet(self) -> int:
        """10.231.<n>.0/24 for this lab: remembered in the state folder, else the first free one from the tag."""
        f = self.dir / "subnet"
        try:
            return int(f.read_text().strip())
        except (OSError, ValueError):
            pass
        used = _run("ip", "-4", "-o", "addr", check=False).stdout
        start = int(self.tag[:2], 16)
        for k in range(256):
            n = (start + k) % 256
            if f"10.231.{n}." not in used:
                break
        self.dir.mkdir(parents=True, exist_ok=True)
        f.write_text(str(n))
        return n

    # -- paths -------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        st = self._state()
        return st.get("port", self._port)

    def p(self, *parts: str) -> str:
        return str(self.dir.joinpath(*parts))

    @property
    def big_dir(self) -> str:
        return self.p("big")

    @property
    def small_dir(self) -> str:
        return self.p("small")

    @property
    def chroot(self) -> str:
        return self.p("chroot") if _root_chain_ok(self.dir) else f"{DEFAULT_STATE}-chroot/{self.tag}"

    def _state(self) -> dict[str, Any]:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def _save(self, st: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(st, indent=1))

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> dict[str, Any]:
        """Bring everything up (idempotent: a running lab is stopped first)."""
        if self._state():
            self.stop()
        st: dict[str, Any] = {"users": [], "mounts": [], "netns": [], "veth": [], "pids": {}, "made_run_sshd": False}
        try:
            port = self._port or _free_port()
            self._port = port
            self.prepare()
            st["port"] = port
            self._save(st)
            self._users(st)
            self._mounts(st)
            if not os.path.isdir("/run/sshd"):
                os.makedirs("/run/sshd", mode=0o755)
                st["made_run_sshd"] = True
            self._save(st)
            self._sshd(st, "loop", "127.0.0.1", port, None)
            for link in self.links.values():
                self._link(st, link)
                self._sshd(st, link.name, link.ns_ip, 22, link.netns)
            _wait_port("127.0.0.1", port)
            for link in self.links.values():
                _wait_port(link.ns_ip, 22)
        except BaseException:
            self.stop()
            raise
        return self.status()

    def prepare(self) -> None:
        """Files only (no system change): state folder, keys, known_hosts. Profiles can be written after this."""
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self._keys()
        self._known_hosts()

    def _keys(self) -> None:
        keys = self.dir / "keys"
        keys.mkdir(exist_ok=True)
        os.chmod(keys, 0o755)
        for name, extra in (("host_ed25519", []), ("impostor_ed25519", []), ("shell_ed25519", []),
                            ("sftp_ed25519", []), ("refused_ed25519", []),
                            ("passphrase_ed25519", ["-N", LAB_PASSPHRASE])):
            path = keys / name
            if not path.exists():
                _run("ssh-keygen", "-q", "-t", "ed25519", "-C", f"prep-lab {name}", "-f", str(path),
                     *(extra or ["-N", ""]))
            os.chmod(path, 0o600)
        auth = self.dir / "authorized_keys"
        auth.mkdir(exist_ok=True)
        os.chmod(auth, 0o755)
        (auth / self.shell_user).write_text((keys / "shell_ed25519.pub").read_text()
                                            + (keys / "passphrase_ed25519.pub").read_text())
        (auth / self.sftp_user).write_text((keys / "sftp_ed25519.pub").read_text())
        for f in auth.iterdir():
            os.chmod(f, 0o644)

    def _users(self, st: dict[str, Any]) -> None:
        home = self.dir / "home"
        home.mkdir(exist_ok=True)
        os.chmod(home, 0o755)
        for user, shell in ((self.shell_user, "/bin/bash"), (self.sftp_user, "/usr/sbin/nologin"),
                            (self.password_user, "/bin/bash")):
            if _run("id", "-u", user, check=False).returncode != 0:
                self._reg("user", user)
                _run("useradd", "-M", "-d", str(home / user), "-s", shell, "-c", "prep-conformance lab", user)
                st["users"].append(user)
                self._save(st)
            if user == self.password_user:
                subprocess.run(["chpasswd"], input=f"{user}:{LAB_PASSWORD}\n", text=True, check=True,
                               capture_output=True, timeout=30)
            else:
                _run("usermod", "-p", "*", user)     # unlock for key login under UsePAM no
            (home / user).mkdir(exist_ok=True)
            shutil.chown(home / user, user, user)

    def _reg(self, kind: str, value: str, **extra: Any) -> None:
        if self._register is not None:
            self._register(kind, value, **extra)

    def _mount_tmpfs(self, st: dict[str, Any], path: str, size: str) -> None:
        os.makedirs(path, exist_ok=True)
        if not os.path.ismount(path):
            self._reg("mount", path)
            _run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", f"prep-lab-{self.tag}", path)
            st["mounts"].append(path)
            self._save(st)

    def _mounts(self, st: dict[str, Any]) -> None:
        self._mount_tmpfs(st, self.big_dir, "64g")
        self._mount_tmpfs(st, self.small_dir, "1g")
        self._mount_tmpfs(st, self.p("tiny"), "24m")          # fills up during a probe: "disk full" path
        if not self.chroot.startswith(str(self.dir)):
            self._reg("command", self.chroot, undo=["rm", "-rf", "--one-file-system", self.chroot])
            st.setdefault("paths", []).append(self.chroot)
        os.makedirs(self.chroot, exist_ok=True)
        os.chmod(self.chroot, 0o755)
        self._mount_tmpfs(st, os.path.join(self.chroot, "upload"), "64g")
        shutil.chown(os.path.join(self.chroot, "upload"), self.sftp_user, self.sftp_user)
        for base in (self.big_dir, self.small_dir, self.p("tiny")):
            os.makedirs(os.path.join(base, "prep"), exist_ok=True)
            shutil.chown(os.path.join(base, "prep"), self.shell_user, self.shell_user)
        os.makedirs(os.path.join(self.big_dir, "prep-password"), exist_ok=True)
        shutil.chown(os.path.join(self.big_dir, "prep-password"), self.password_user, self.password_user)
        os.makedirs(os.path.join(self.big_dir, "readonly"), exist_ok=True)   # root-owned 0755: not writable
        os.chmod(os.path.join(self.big_dir, "readonly"), 0o755)

    def _config(self, name: str, addr: str, port: int) -> str:
        cfg = self.dir / f"sshd_{name}.conf"
        cfg.write_text(f"""# prep-conformance lab sshd ({name})
Port {port}
ListenAddress {addr}
HostKey {self.p('keys', 'host_ed25519')}
PidFile {self.p(f'sshd_{name}.pid')}
UsePAM no
StrictModes no
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile {self.p('authorized_keys')}/%u
AllowUsers {self.shell_user} {self.sftp_user} {self.password_user}
AllowTcpForwarding no
AllowAgentForwarding no
X11Forwarding no
PrintMotd no
MaxStartups 64
MaxSessions 32
Subsystem sftp internal-sftp
Match User {self.password_user}
    PasswordAuthentication yes
Match User {self.sftp_user}
    ChrootDirectory {self.chroot}
    ForceCommand internal-sftp
""")
        return str(cfg)

    def _sshd(self, st: dict[str, Any], name: str, addr: str, port: int, netns: str | None) -> None:
        cfg = self._config(name, addr, port)
        _run(SSHD, "-t", "-f", cfg)
        argv = [SSHD, "-D", "-e", "-f", cfg]
        if netns:
            argv = ["ip", "netns", "exec", netns, *argv]
        if self._spawn is not None:
            st["pids"][name] = self._spawn(f"sshd-{name}", argv, port if not netns else None)
            self._save(st)
            return
        log = open(self.p(f"sshd_{name}.log"), "ab")
        proc = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        st["pids"][name] = proc.pid
        self._save(st)

    def _link(self, st: dict[str, Any], link: Link) -> None:
        self._reg("netns", link.netns)
        _run("ip", "netns", "add", link.netns)
        st["netns"].append(link.netns)
        self._save(st)
        self._reg("link", link.host_if)
        _run("ip", "link", "add", link.host_if, "type", "veth", "peer", "name", link.ns_if)
        st["veth"].append(link.host_if)
        self._save(st)
        _run("ip", "link", "set", link.ns_if, "netns", link.netns)
        _run("ip", "addr", "add", f"{link.host_ip}/30", "dev", link.host_if)
        _run("ip", "link", "set", link.host_if, "up")
        _run("ip", "-n", link.netns, "addr", "add", f"{link.ns_ip}/30", "dev", link.ns_if)
        _run("ip", "-n", link.netns, "link", "set", link.ns_if, "up")
        _run("ip", "-n", link.netns, "link", "set", "lo", "up")
        # Host → namespace is the upload direction: shape the host side's egress.
        burst = max(64 * 1024, link.rate_mbit * 1_000_000 // 8 // 100)
        _run("tc", "qdisc", "add", "dev", link.host_if, "root", "tbf", "rate", f"{link.rate_mbit}mbit",
             "burst", str(burst), "latency", "50ms")

    def _known_hosts(self) -> None:
        pub = Path(self.p("keys", "host_ed25519.pub")).read_text().split()
        bad = Path(self.p("keys", "impostor_ed25519.pub")).read_text().split()
        names = [f"[127.0.0.1]:{self.port}"] + [link.ns_ip for link in self.links.values()]
        Path(self.p("known_hosts")).write_text("".join(f"{n} {pub[0]} {pub[1]}\n" for n in names))
        Path(self.p("known_hosts_wrong")).write_text("".join(f"{n} {bad[0]} {bad[1]}\n" for n in names))

    def stop(self) -> None:
        """Undo everything ``start`` recorded: processes, namespaces, veths, mounts, users."""
        st = self._state()
        for name, pid in (st.get("pids") or {}).items():
            self._kill(pid, self.p(f"sshd_{name}.conf"))
        for ns in st.get("netns", []):
            for pid in (_run("ip", "netns", "pids", ns, check=False).stdout or "").split():
                self._kill(int(pid), self.p(""))
            _run("ip", "netns", "del", ns, check=False)
        for veth in st.get("veth", []):
            _run("ip", "link", "del", veth, check=False)
        for m in reversed(st.get("mounts", [])):
            if os.path.ismount(m):
                _run("umount", "-l", m, check=False)
        for path in st.get("paths", []):
            shutil.rmtree(path, ignore_errors=True)
        for user in st.get("users", []):
            self._kill_user_sessions(user)
            _run("userdel", user, check=False)
        if st:
            self.state_file.unlink(missing_ok=True)

    @staticmethod
    def _kill_user_sessions(user: str) -> None:
        """Kill leftover session processes of a lab user (ours: the lab's sshd started them), by pid."""
        uid = _run("id", "-u", user, check=False).stdout.strip()
        if not uid.isdigit():
            return
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                uids = next(ln for ln in (proc / "status").read_text().splitlines() if ln.startswith("Uid:"))
            except (OSError, StopIteration):
                continue
            if uids.split()[1] == uid:
                try:
                    os.kill(int(proc.name), signal.SIGKILL)
                except ProcessLookupError:
                    pass

    @staticmethod
    def _kill(pid: int, marker: str) -> None:
        """Kill one of our sshd processes (its command line names our config), never another process."""
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            return
        if marker not in cmd:
            return
        try:
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                if not Path(f"/proc/{pid}").exists():
                    return
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
                time.sleep(0.05)
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def status(self) -> dict[str, Any]:
        st = self._state()
        alive = {n: Path(f"/proc/{pid}").exists() for n, pid in (st.get("pids") or {}).items()}
        return {"component": self.name, "running": bool(alive) and all(alive.values()), "processes": alive,
                "port": st.get("port"), "links": {k: asdict(v) for k, v in self.links.items()},
                "users": [self.shell_user, self.sftp_user, self.password_user], "state_dir": str(self.dir)}

    # -- what scenarios put in a profile's ssh: section ----------------------------------------------
    def profile_ssh(self, scenario: str) -> dict[str, Any]:
        return ssh_section(self, scenario)


# The ssh: section each SSH scenario's profile gets (``lab/scenarios/ssh.py`` lists the scenarios; this
# component knows its own keys, folders and links, so the layout lives here and the import goes one way).
SECTIONS = ("ssh-compliant", "ssh-shaped-20", "ssh-shaped-60", "ssh-small-disk", "ssh-sftp-only",
            "ssh-wrong-host-key", "ssh-refused-key", "ssh-missing-upload-dir", "ssh-readonly-upload-dir",
            "ssh-passphrase-key", "ssh-password")


def ssh_section(lab: SshdLab, scenario: str) -> dict[str, Any]:
    """The ``ssh:`` mapping of the scenario's profile (absolute paths into the lab's state folder)."""
    if scenario not in SECTIONS:
        raise KeyError(f"unknown SSH scenario {scenario!r}; known: {', '.join(sorted(SECTIONS))}")
    base = {"host": "127.0.0.1", "port": lab.port, "username": lab.shell_user,
            "key_file": lab.p("keys", "shell_ed25519"), "known_hosts": lab.p("known_hosts"), "shell": True,
            "upload_dir": f"{lab.big_dir}/prep", "timeout_s": 10, "probe_mb": 64, "rounds": 3}
    links = list(lab.links.values())
    if scenario == "ssh-shaped-20":
        base.update(host=links[0].ns_ip, port=22, probe_mb=24, rounds=3)
    elif scenario == "ssh-shaped-60":
        base.update(host=links[1].ns_ip, port=22, probe_mb=72, rounds=3)
    elif scenario == "ssh-small-disk":
        base.update(upload_dir=f"{lab.small_dir}/prep")
    elif scenario == "ssh-sftp-only":
        base.update(username=lab.sftp_user, key_file=lab.p("keys", "sftp_ed25519"), shell=False,
                    upload_dir="/upload")
    elif scenario == "ssh-passphrase-key":
        base.update(key_file=lab.p("keys", "passphrase_ed25519"), key_passphrase_env=PASSPHRASE_ENV)
    elif scenario == "ssh-password":
        base.pop("key_file")
        base.update(username=lab.password_user, password_env=PASSWORD_ENV, upload_dir=f"{lab.big_dir}/prep-password")
    elif scenario == "ssh-wrong-host-key":
        base.update(known_hosts=lab.p("known_hosts_wrong"))
    elif scenario == "ssh-refused-key":
        base.update(key_file=lab.p("keys", "refused_ed25519"))
    elif scenario == "ssh-missing-upload-dir":
        base.update(upload_dir=f"{lab.big_dir}/no-such-dir")
    elif scenario == "ssh-readonly-upload-dir":
        base.update(upload_dir=f"{lab.big_dir}/readonly")
    base.setdefault("scratch_dir", f"{base['upload_dir']}/.conformance-{scenario}")   # parallel runs apart
    return base


# -- the lab core's component interface (lab/component.py) ------------------------------------------------

from .component import Component, Context  # noqa: E402


class SshdComponent(Component):
    """sshd for the ``ssh`` family of scenarios; other scenarios get no ``ssh:`` (II.1.a/c/d are MANUAL)."""

    name = "sshd"
    order = 60

    def _lab(self, ctx: Context) -> SshdLab:
        def register(kind: str, value: str, **extra: Any) -> None:
            ctx.register(self.name, kind, value, **extra)

        def spawn(name: str, argv: list[str], port: int | None) -> int:
            return ctx.spawn(self.name, name, argv, ports=[port] if port else [])
        return SshdLab(ctx.state / "sshd", port=ctx.port("lab", "sshd"), register=register, spawn=spawn)

    @staticmethod
    def serves(sc) -> bool:
        """The ssh family, and the core ``compliant`` difusor (so it shows II.1.a/c/d PASS, not MANUAL)."""
        return "sshd" in sc.requires or sc.id == "compliant"

    def _wanted(self, ctx: Context) -> bool:
        return any(self.serves(sc) for sc in ctx.scenarios)

    def available(self) -> str | None:
        missing = [b for b in (SSHD, shutil.which("ssh-keygen"), shutil.which("ip"), shutil.which("tc"),
                               shutil.which("useradd")) if not b or not os.path.exists(b)]
        if missing or not shutil.which("sftp"):
            return "openssh-server/openssh-client/iproute2 not installed"
        if os.geteuid() != 0:
            return "sshd lab needs root (users, tmpfs, network namespaces)"
        return None

    def plan(self, ctx: Context) -> None:
        if self._wanted(ctx):
            ctx.port("lab", "sshd")
            SshdLab(ctx.state / "sshd", port=ctx.port("lab", "sshd")).prepare()   # profiles name these files

    def start(self, ctx: Context) -> None:
        if self._wanted(ctx):
            self._lab(ctx).start()

    def stop(self, ctx: Context) -> None:
        SshdLab(ctx.state / "sshd").stop()

    def status(self, ctx: Context) -> list[dict[str, Any]]:
        if not self._wanted(ctx):
            return []
        st = SshdLab(ctx.state / "sshd").status()
        lines = [{"name": "sshd loopback", "ok": st["processes"].get("loop", False),
                  "detail": f"127.0.0.1:{st['port']}"}]
        for link in st["links"].values():
            lines.append({"name": f"sshd link {link['name']}", "ok": st["processes"].get(link["name"], False),
                          "detail": f"{link['ns_ip']}:22 in netns {link['netns']}, tbf {link['rate_mbit']}mbit"})
        return lines

    def profile_for(self, scenario, ctx: Context) -> dict[str, Any]:
        if not self.serves(scenario):
            return {}
        lab = SshdLab(ctx.state / "sshd", port=ctx.port("lab", "sshd"))
        return {"ssh": ssh_section(lab, "ssh-compliant" if scenario.id == "compliant" else scenario.id)}


COMPONENT = SshdComponent()
