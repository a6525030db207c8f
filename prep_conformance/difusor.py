"""One difusor under test: its profile, its convocatoria, and what its checks share.

Checks never call ``once`` themselves: they ask ``difusor.observe`` (``prep_conformance.observe``), the
one module that decides what is observed once per run and under which key.
"""

from __future__ import annotations

import contextlib
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
    Each key has its own lock: different observations may run at the same time (in threads), one key is
    computed by one caller while the others wait for it, and ``fn`` may itself ask for other keys.
    A failure met in the background (``background()``: a prefetch) is not yet anyone's: the first check
    that asks gets the reason itself, the later ones ``Blocked``, exactly as without the prefetch.
    """

    profile: Profile
    convocatoria: Convocatoria
    options: dict[str, Any] = field(default_factory=dict)
    _cache: dict[str, tuple[bool, Any]] = field(default_factory=dict, repr=False)
    _locks: dict[str, threading.Lock] = field(default_factory=dict, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _busy: threading.local = field(default_factory=threading.local, repr=False)
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _undelivered: set[str] = field(default_factory=set, repr=False)
    _observe: Any = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return self.profile.id

    @property
    def observe(self):
        """What this difusor's checks observe (``prep_conformance.observe.Observations``)."""
        if self._observe is None:
            from .observe import Observations
            with self._guard:
                if self._observe is None:
                    self._observe = Observations(self)
        return self._observe

    def once(self, key: str, fn: Callable[[], T]) -> T:
        busy = self._busy.__dict__.setdefault("keys", set())
        if key in busy:
            raise RuntimeError(f"once({key!r}) asked for itself while computing it")
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            background = getattr(self._busy, "background", False)
            if key in self._cache:
                ok, value = self._cache[key]
                if ok:
                    return value
                if key in self._undelivered and not background:
                    self._undelivered.discard(key)
                    raise value
                first = value
                raise Blocked(f"bloqueado: {first.summary}", f"blocked: {first.summary_en}",
                              blocked_by=key, **first.evidence)
            busy.add(key)
            try:
                value = fn()
            except CheckError as exc:
                self._cache[key] = (False, exc)
                if background:
                    self._undelivered.add(key)
                raise
            except Exception as exc:  # an unexpected fault is still recorded once, as ERROR
                err = CheckError(f"{key}: {type(exc).__name__}: {exc}", f"{key}: {type(exc).__name__}: {exc}")
                err.__cause__ = exc
                self._cache[key] = (False, err)
                if background:
                    self._undelivered.add(key)
                raise err from exc
            finally:
                busy.discard(key)
            self._cache[key] = (True, value)
            return value

    @contextlib.contextmanager
    def background(self):
        """Observations made in this block (in this thread) are a prefetch: see the class docstring."""
        self._busy.background = True
        try:
            yield
        finally:
            self._busy.background = False

    def on_close(self, fn: Callable[[], None]) -> None:
        with self._guard:
            self._closers.append(fn)

    def close(self) -> None:
        if self._observe is not None:
            self._observe.close()
        while self._closers:
            try:
                self._closers.pop()()
            except Exception:
                pass
