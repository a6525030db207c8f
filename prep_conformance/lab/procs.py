"""Processes the lab starts: spawned in their own session, logged to the state folder, stopped by PID.

A PID alone can be reused by the kernel; each record also keeps the process start time
(``/proc/<pid>/stat`` field 22), so ``down`` never signals a stranger.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # comm may hold spaces and parentheses: split after the last ')'
    rest = raw[raw.rindex(")") + 2:].split()
    return rest  # rest[0] = state, rest[1] = ppid, rest[19] = starttime


def start_time(pid: int) -> int | None:
    st = _stat(pid)
    return int(st[19]) if st else None


def alive(pid: int, started: int | None = None) -> bool:
    """Running (not a zombie) and, when ``started`` is given, the same process that was recorded."""
    st = _stat(pid)
    if st is None or st[0] in ("Z", "X"):
        return False
    return started is None or int(st[19]) == started


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (nginx workers, the Varnish cache process)."""
    by_parent: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = _stat(int(d))
            if st:
                by_parent.setdefault(int(st[1]), []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for c in by_parent.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def spawn(argv: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as f:
        f.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S%z')} start: {' '.join(argv)}\n".encode())
        f.flush()
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})}, cwd=cwd, start_new_session=True,
                                close_fds=True)


def terminate(records: list[tuple[int, int | None]], timeout: float = 5.0, sig: int = signal.SIGTERM) -> list[int]:
    """Signal each (pid, start time) still alive, wait, then SIGKILL what remains. Returns the PIDs signalled."""
    hit = []
    for pid, started in records:
        if alive(pid, started):
            try:
                os.kill(pid, sig)
                hit.append(pid)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(p, s) for p, s in records):
        _reap()
        time.sleep(0.05)
    for pid, started in records:
        if alive(pid, started):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and any(alive(p, s) for p, s in records):
        _reap()
        time.sleep(0.05)
    return hit


def _reap() -> None:
    """Collect our own exited children so they do not linger as zombies."""
    try:
        while True:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
    except ChildProcessError:
        pass


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def port_holder(port: int) -> str:
    """Who listens on ``port`` (from ``ss``), for a clear error message."""
    try:
        out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return out.strip().splitlines()[0].split("users:", 1)[-1] if out.strip() else "?"


def wait_listening(ports: list[int], timeout: float, proc: subprocess.Popen | None = None,
                   host: str = "127.0.0.1") -> list[int]:
    """Wait until every port accepts a TCP connection; returns the ports still closed at the deadline."""
    pending = list(ports)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        for p in list(pending):
            try:
                with socket.create_connection((host, p), timeout=0.5):
                    pending.remove(p)
            except OSError:
                pass
        if pending:
            time.sleep(0.05)
    return pending


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
