"""One signal and cleanup guard for the probes that leave something behind if cut short: the SFTP upload
probe (probe files), the corte drill (the difusor's site) and the Locust run (processes).

``with Guard("the upload probe") as g:``

* in the main thread, SIGINT, SIGTERM and SIGHUP raise ``KeyboardInterrupt`` inside the block, so its
  ``finally`` clauses and the cleanups run (pytest then reports an interrupted run and still writes its
  results); a signal the process ignores (``nohup``) stays ignored; the previous handlers are put back
  on exit. Other threads install nothing (Python only lets the main thread handle signals);
* ``run = g.on_exit(fn)`` registers a cleanup and returns a callable that runs it **at most once**, with
  those signals held until it finishes; what was not called is run on leaving the block (normally, by an
  exception or by a signal), last registered first, and at interpreter exit if the block never ended;
* a signal that came while a cleanup ran, or whose ``KeyboardInterrupt`` a library swallowed, is passed
  on once the cleanups are done: to the handler that was there before (an outer guard, an application's
  own handler), or as ``KeyboardInterrupt``.
"""

from __future__ import annotations

import atexit
import contextlib
import signal
import threading
from typing import Any, Callable, Iterator

SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))

_PENDING: dict[int, "Cleanup"] = {}      # registered and not run yet, in registration order (for atexit)
_PENDING_LOCK = threading.Lock()


def _run_pending() -> None:
    """At interpreter exit: whatever a guard registered and nothing ran (a daemon thread's block)."""
    with _PENDING_LOCK:
        items = list(_PENDING.values())
        _PENDING.clear()
    for c in reversed(items):
        try:
            c._run()
        except Exception:  # noqa: BLE001 - best effort while the interpreter goes away
            pass


atexit.register(_run_pending)


class Cleanup:
    """A registered cleanup: call it to run it now (once; later calls return the first result)."""

    def __init__(self, guard: "Guard", fn: Callable[[], Any]):
        self._guard, self._fn = guard, fn
        self._lock = threading.Lock()
        self.done = False
        self.result: Any = None

    def _run(self) -> Any:
        with self._lock:
            if self.done:
                return self.result
            self.done = True
            with _PENDING_LOCK:
                _PENDING.pop(id(self), None)
            self.result = self._fn()
            return self.result

    def __call__(self) -> Any:
        with self._guard.shield():
            return self._run()


class Guard:
    """See the module's docstring. ``interrupted``: the first signal seen (None: none)."""

    def __init__(self, what: str):
        self.what = what
        self.interrupted: int | None = None
        self._main = threading.current_thread() is threading.main_thread()
        self._old: dict[int, Any] = {}
        self._cleanups: list[Cleanup] = []
        self._held = False

    # -- signals -------------------------------------------------------------------------------------
    def _raise(self, signum, frame) -> None:
        self.interrupted = self.interrupted or signum
        raise KeyboardInterrupt(f"signal {signum} during {self.what}")

    def _note(self, signum, frame) -> None:
        self.interrupted = self.interrupted or signum

    def _install(self, handler) -> dict[int, Any]:
        """Put ``handler`` on every signal not ignored; return what was there before."""
        before: dict[int, Any] = {}
        if not self._main:
            return before
        for sig in SIGNALS:
            cur = signal.getsignal(sig)
            if cur is signal.SIG_IGN or cur is None:      # ignored (nohup), or set outside Python: leave it
                continue
            before[sig] = signal.signal(sig, handler)
        return before

    @staticmethod
    def _restore(before: dict[int, Any]) -> None:
        for sig, old in before.items():
            signal.signal(sig, old)

    @contextlib.contextmanager
    def shield(self, raise_after: bool = True) -> Iterator[None]:
        """Hold the signals while the body runs (a cleanup must not be cut in half); a signal that came is
        raised as ``KeyboardInterrupt`` afterwards (``raise_after``), unless an exception already leaves."""
        if self._held:
            yield
            return
        seen = self.interrupted
        self._held = True
        before = self._install(self._note)
        try:
            yield
        finally:
            self._restore(before)
            self._held = False
        if raise_after and self.interrupted is not None and self.interrupted != seen:
            raise KeyboardInterrupt(f"signal {self.interrupted} during the cleanup of {self.what} (cleanup completed)")

    # -- cleanups ------------------------------------------------------------------------------------
    def on_exit(self, fn: Callable[[], Any]) -> Cleanup:
        c = Cleanup(self, fn)
        self._cleanups.append(c)
        with _PENDING_LOCK:
            _PENDING[id(c)] = c
        return c

    def __enter__(self) -> "Guard":
        self._old = self._install(self._raise)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        failure: BaseException | None = None
        before, self._old = self._old, {}
        try:
            with self.shield(raise_after=False):
                for c in reversed(self._cleanups):
                    try:
                        c._run()
                    except Exception as e:  # noqa: BLE001 - the other cleanups still run
                        failure = failure or e
        finally:
            self._restore(before)
        if exc_type is not None:
            return False                       # the exception (a KeyboardInterrupt too) goes on as it is
        if failure is not None:
            raise failure
        if self.interrupted is not None:
            self._pass_on(self.interrupted, before.get(self.interrupted))
        return False

    def _pass_on(self, signum: int, before: Any) -> None:
        """A signal whose exception did not come out of the block: to the handler that was there before
        (an outer guard's raises in turn; an application's does what it does), else ``KeyboardInterrupt``."""
        if callable(before) and before is not signal.default_int_handler:
            before(signum, None)
            return
        raise KeyboardInterrupt(f"signal {signum} during {self.what} (cleaned up)")
