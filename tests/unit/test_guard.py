"""probes.guard: the one signal/cleanup lifecycle of the upload probe, the corte drill and the load run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from prep_conformance.probes import guard as guard_mod
from prep_conformance.probes.guard import Guard


def test_cleanups_run_once_last_registered_first():
    ran = []
    with Guard("t") as g:
        first = g.on_exit(lambda: ran.append("first") or "one")
        g.on_exit(lambda: ran.append("second"))
        assert first() == "one" and first() == "one"     # called early: once, its result kept
    assert ran == ["first", "second"]
    assert not any(c in guard_mod._PENDING.values() for c in g._cleanups)


def test_exception_runs_cleanups_and_goes_on():
    ran = []
    with pytest.raises(ValueError):
        with Guard("t") as g:
            g.on_exit(lambda: ran.append(1))
            raise ValueError("boom")
    assert ran == [1]


def test_sigterm_interrupts_cleans_up_and_restores_handlers():
    before = signal.getsignal(signal.SIGTERM)
    ran = []
    with pytest.raises(KeyboardInterrupt, match="signal 15 during t"):
        with Guard("t") as g:
            g.on_exit(lambda: ran.append(signal.getsignal(signal.SIGTERM)))
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):
                pass
    assert len(ran) == 1 and ran[0] == g._note              # signals were held during the cleanup
    assert signal.getsignal(signal.SIGTERM) is before and g.interrupted == signal.SIGTERM


def test_a_swallowed_interruption_is_raised_again_after_cleanup():
    ran = []
    with pytest.raises(KeyboardInterrupt, match="cleaned up"):
        with Guard("t") as g:
            g.on_exit(lambda: ran.append(1))
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(1000):
                    pass
            except KeyboardInterrupt:
                pass                                        # a library turning it into an I/O error
    assert ran == [1]


def test_a_signal_during_cleanup_waits_for_the_cleanup():
    ran = []

    def cleanup():
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):
            pass
        ran.append("finished")
    with pytest.raises(KeyboardInterrupt):
        with Guard("t") as g:
            remove = g.on_exit(cleanup)
            remove()
    assert ran == ["finished"]


def test_ignored_signals_stay_ignored():
    old = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with Guard("t"):
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, old)


def test_nested_guards_pass_the_signal_outwards():
    ran = []
    with pytest.raises(KeyboardInterrupt):
        with Guard("outer") as outer:
            outer.on_exit(lambda: ran.append("outer"))
            with Guard("inner") as inner:
                inner.on_exit(lambda: ran.append("inner"))
                try:
                    os.kill(os.getpid(), signal.SIGTERM)
                    for _ in range(1000):
                        pass
                except KeyboardInterrupt:
                    pass
    assert ran == ["inner", "outer"] and outer.interrupted == signal.SIGTERM


def test_other_threads_install_no_handler_but_clean_up():
    ran, seen = [], []

    def body():
        with Guard("t") as g:
            g.on_exit(lambda: ran.append(1))
            seen.append(signal.getsignal(signal.SIGTERM))
    before = signal.getsignal(signal.SIGTERM)
    th = threading.Thread(target=body)
    th.start()
    th.join()
    assert ran == [1] and seen == [before]


def test_sigterm_from_outside_still_runs_the_cleanup(tmp_path):
    """A process killed with SIGTERM mid-probe: the cleanup runs, and the process ends interrupted."""
    mark = tmp_path / "cleaned"
    code = textwrap.dedent(f"""
        import sys, time
        from prep_conformance.probes.guard import Guard
        with Guard("child") as g:
            g.on_exit(lambda: open({str(mark)!r}, "w").write("ok"))
            print("READY", flush=True)
            time.sleep(30)
    """)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "READY"
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=20)
    assert mark.read_text() == "ok" and "KeyboardInterrupt" in err and p.returncode != 0
