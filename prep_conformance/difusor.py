"""One difusor under test: its profile, its convocatoria, and what its checks share (connections, pre-flights)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from .convocatoria import Convocatoria
from .errors import Blocked, CheckError
from .profile import Profile

T = TypeVar("T")


@dataclass
class Difusor:
    """A profile with its convocatoria and a per-run cache.

    ``once(key, fn)`` computes ``fn()`` once per run: a connection or pre-flight is made once and reused
    by every check; if it failed, every later caller gets ``Blocked`` at once with the first reason.
    """

    profile: Profile
    convocatoria: Convocatoria
    options: dict[str, Any] = field(default_factory=dict)
    _cache: dict[str, tuple[bool, Any]] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)  # once() may nest
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @property
    def id(self) -> str:
        return self.profile.id

    def once(self, key: str, fn: Callable[[], T]) -> T:
        with self._lock:
            if key in self._cache:
                ok, value = self._cache[key]
                if ok:
                    return value
                first = value
                raise Blocked(f"bloqueado: {first.summary}", f"blocked: {first.summary_en}",
                              blocked_by=key, **first.evidence)
            try:
                value = fn()
            except CheckError as exc:
                self._cache[key] = (False, exc)
                raise
            except Exception as exc:  # an unexpected fault is still recorded once, as ERROR
                err = CheckError(f"{key}: {type(exc).__name__}: {exc}", f"{key}: {type(exc).__name__}: {exc}")
                self._cache[key] = (False, err)
                raise err from exc
            self._cache[key] = (True, value)
            return value

    def on_close(self, fn: Callable[[], None]) -> None:
        self._closers.append(fn)

    def close(self) -> None:
        while self._closers:
            try:
                self._closers.pop()()
            except Exception:
                pass
