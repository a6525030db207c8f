"""SSH faults in words: host, port, the phase that failed and why, in Spanish and in English.

paramiko says "Error reading SSH protocol banner" for a port that never speaks and for one that speaks
garbage alike, and an upload cut by the server is an ``EOFError`` with no text. A reviewer needs
``sftp.medio.example:22, intercambio de banner: sin respuesta en 15 s`` instead. ``probes.ssh`` and
``probes.transfer`` raise and record faults through here.
"""

from __future__ import annotations

import socket
import time

from ..errors import CheckError

PHASES = {
    "tcp": ("conexión TCP", "TCP connect"),
    "banner": ("intercambio de banner", "banner exchange"),
    "kex": ("intercambio de claves", "key exchange"),
    "auth": ("autenticación", "authentication"),
    "sftp": ("subsistema SFTP", "SFTP subsystem"),
    "upload": ("carga", "upload"),
}


def fault(host: str, port: int, phase: str, reason_es: str, reason_en: str, **evidence) -> CheckError:
    """A ``CheckError`` (ERROR verdict) naming where, in which phase, and why."""
    p_es, p_en = PHASES[phase]
    return CheckError(f"SSH {host}:{port}, {p_es}: {reason_es}.", f"SSH {host}:{port}, {p_en}: {reason_en}.",
                      host=host, port=port, phase=phase, reason=reason_en, **evidence)


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n} bytes"


def reason(exc: BaseException, timeout_s: float | None = None) -> tuple[str, str]:
    """``(es, en)`` for a transport exception (socket, paramiko)."""
    text = str(exc).strip()
    low = text.lower()
    t = f" en {timeout_s:g} s" if timeout_s else ""
    t_en = f" in {timeout_s:g} s" if timeout_s else ""
    if isinstance(exc, (socket.timeout, TimeoutError)) or "timed out" in low or "timeout" in low:
        return f"sin respuesta{t}", f"no answer{t_en}"
    if isinstance(exc, ConnectionRefusedError) or "refused" in low:
        return "conexión rechazada (nada escucha en ese puerto)", "connection refused (nothing listens on that port)"
    if isinstance(exc, (EOFError, ConnectionResetError, BrokenPipeError)) or "reset" in low or "closed" in low \
            or "eof" in low or not text:
        return "el servidor cerró la conexión", "the server closed the connection"
    if "incompatible" in low or "no acceptable" in low or "no matching" in low:
        return f"sin algoritmos en común ({text[:160]})", f"no algorithm in common ({text[:160]})"
    if isinstance(exc, socket.gaierror) or "name or service" in low:
        return f"no se pudo resolver el nombre ({text[:120]})", f"the name does not resolve ({text[:120]})"
    return f"{type(exc).__name__}: {text[:200]}", f"{type(exc).__name__}: {text[:200]}"


def _preview(data: bytes) -> str:
    shown = data[:24]
    return "".join(chr(b) if 32 <= b < 127 else f"\\x{b:02x}" for b in shown) + ("…" if len(data) > 24 else "")


def check_banner(sock: socket.socket, host: str, port: int, timeout_s: float) -> None:
    """Before paramiko reads it: does the port send an SSH banner at all? Looks without consuming
    (``MSG_PEEK``). Raises ``fault(..., "banner", ...)`` when nothing comes in ``timeout_s``, when the
    server closes at once, or when what comes is binary and holds no ``SSH-``."""
    deadline = time.monotonic() + timeout_s
    data = b""
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            data = sock.recv(256, socket.MSG_PEEK)
            if not data or b"\n" in data or len(data) >= 255 or b"SSH-" in data:
                break
            time.sleep(0.05)            # a banner arriving in pieces: look again
    except (socket.timeout, TimeoutError):
        pass
    except OSError as exc:
        es, en = reason(exc, timeout_s)
        raise fault(host, port, "banner", es, en) from None
    finally:
        sock.settimeout(timeout_s)
    if data == b"" and time.monotonic() >= deadline:
        raise fault(host, port, "banner", f"el servidor acepta la conexión pero no envía su banner en {timeout_s:g} s",
                    f"the server accepts the connection but sends no banner in {timeout_s:g} s")
    if data == b"":
        raise fault(host, port, "banner", "el servidor cerró la conexión sin enviar su banner",
                    "the server closed the connection without sending its banner")
    binary = any(b < 9 or (13 < b < 32) or b > 126 for b in data)
    if b"SSH-" not in data and binary:
        raise fault(host, port, "banner", f"banner inválido: no es un servidor SSH (recibido «{_preview(data)}»)",
                    f"invalid banner: not an SSH server (received '{_preview(data)}')", received=_preview(data))


def upload_error(host: str, port: int, exc: BaseException, sent: int, total: int,
                 timeout_s: float | None = None) -> tuple[str, str]:
    """``(es, en)`` for an upload that failed after ``sent`` of ``total`` bytes."""
    es, en = reason(exc, timeout_s)
    return (f"SSH {host}:{port}, carga: {es} tras {_mb(sent)} de {_mb(total)}",
            f"SSH {host}:{port}, upload: {en} after {_mb(sent)} of {_mb(total)}")
