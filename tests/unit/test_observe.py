"""The observation layer's memo (``Difusor.once``): per-key locks, and a failure met in the background
(a prefetch) still reported to the first check that asks, as without the prefetch."""

import threading

import pytest

from prep_conformance.difusor import Difusor
from prep_conformance.errors import Blocked, CheckError


def _difusor():
    return Difusor(profile=None, convocatoria=None)


def test_a_background_failure_reaches_the_first_check_itself_then_blocks():
    d = _difusor()
    with d.background(), pytest.raises(CheckError):
        d.once("http:reach", lambda: (_ for _ in ()).throw(CheckError("sin respuesta", "no answer")))
    with pytest.raises(CheckError) as first:
        d.once("http:reach", lambda: 1 / 0)
    assert not isinstance(first.value, Blocked) and first.value.summary == "sin respuesta"
    with pytest.raises(Blocked) as later:
        d.once("http:reach", lambda: 1 / 0)
    assert later.value.summary == "bloqueado: sin respuesta"


def test_a_foreground_failure_blocks_the_next_caller():
    d = _difusor()
    with pytest.raises(CheckError):
        d.once("k", lambda: (_ for _ in ()).throw(CheckError("x", "x")))
    with pytest.raises(Blocked):
        d.once("k", lambda: 1)


def test_keys_compute_together_and_one_key_once():
    d = _difusor()
    started, release, calls = threading.Event(), threading.Event(), []

    def slow():
        calls.append("slow")
        started.set()
        release.wait(5)
        return "a"
    t = threading.Thread(target=lambda: d.once("a", slow))
    t.start()
    assert started.wait(5)
    assert d.once("b", lambda: "b") == "b"          # another key does not wait for "a"
    waiter = threading.Thread(target=lambda: calls.append(d.once("a", lambda: "again")))
    waiter.start()
    release.set()
    t.join(5)
    waiter.join(5)
    assert calls == ["slow", "a"]                     # "a" computed once; the second caller got its value


def test_a_key_asked_for_inside_itself_is_a_programming_error():
    d = _difusor()
    with pytest.raises(CheckError, match="asked for itself"):
        d.once("k", lambda: d.once("k", lambda: 1))


def test_a_monitor_log_written_with_a_bom_is_read(tmp_path):
    """Logs written by Windows tools start with a BOM: that is not a malformed first sample."""
    from types import SimpleNamespace

    from prep_conformance.observe import Observations
    log = tmp_path / "monitor.jsonl"
    log.write_bytes(b'\xef\xbb\xbf{"t": 1717380000, "status": 200}\n\n{"t": 1717380060, "status": 503}\n')
    prof = SimpleNamespace(availability=SimpleNamespace(monitor_log=str(log)))
    samples = Observations(SimpleNamespace(profile=prof, convocatoria=None)).monitor_samples()
    assert [(s.t, s.status) for s in samples] == [(1717380000.0, 200), (1717380060.0, 503)]
