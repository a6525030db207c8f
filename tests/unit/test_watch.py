"""The watch's pure parts: hysteresis, incidents, availability accounting, lag, texts, the shared db schema."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest

from prep_conformance.watch import availability
from prep_conformance.watch.incidents import Tracker, derive, fmt_duration, fmt_when, summaries
from prep_conformance.watch.poller import Sample
from prep_conformance.watch.reference import lag_s
from prep_conformance.watch.store import Store

TZ = dt.timezone(dt.timedelta(hours=-6))


def s(t, difusor="d", **flags):
    base = {"down": False}
    base.update(flags)
    return Sample(difusor, float(t), not base["down"], None if base["down"] else 200, 0.01,
                  "Connection refused" if base["down"] else None, flags=base)


def test_one_lost_packet_is_not_an_outage():
    tr = Tracker("d", n_open=2, n_close=2)
    events = [e for t, bad in enumerate([False, True, False, False, True, False]) for e in tr.feed(s(t, down=bad))]
    assert events == []


def test_incident_starts_at_first_bad_and_ends_at_first_good_sample():
    seq = [False, False, True, True, True, False, True, False, False, False]
    incs = derive([s(t * 10, down=bad) for t, bad in enumerate(seq)], n_open=2, n_close=2)
    assert len(incs) == 1
    inc = incs[0]
    assert (inc.kind, inc.started_at, inc.ended_at, inc.duration_s) == ("down", 20.0, 70.0, 50.0)
    assert inc.first_evidence["error"] == "Connection refused"


def test_open_incident_stays_open_and_unknown_samples_change_nothing():
    tr = Tracker("d", n_open=2, n_close=2)
    out = []
    for t, stale in enumerate([True, True, None, None, False, None, True]):
        out += tr.feed(s(t, stale=stale))
    assert [e.action for e in out] == ["open", "update"]
    assert "stale" in tr.open and tr.open["stale"].started_at == 0.0


def test_kinds_are_independent_and_hysteresis_one_is_immediate():
    incs = derive([s(0, cache_control=True, tls=True), s(1, cache_control=False, tls=True)], n_open=1, n_close=1)
    assert {(i.kind, i.ended_at) for i in incs} == {("cache_control", 1.0), ("tls", None)}


def test_tracker_resumes_open_incidents():
    first = Tracker("d", 2, 2)
    for t in range(3):
        first.feed(s(t, down=True))
    resumed = Tracker("d", 2, 2, open_incidents=first.open.values())
    ev = resumed.feed(s(10, down=False)) + resumed.feed(s(11, down=False))
    assert [e.action for e in ev] == ["close"] and ev[0].incident.started_at == 0 and ev[0].incident.ended_at == 10


def test_availability_counts_gaps_as_unknown_and_caps_each_sample():
    samples = [(0, True), (10, True), (20, False), (30, False), (40, True), (50, True)]
    runs = [(0, 55), (100, 120)]
    acc = availability.account(samples + [(100, True), (110, True)], runs, (0, 200), until=120, max_gap_s=15,
                               threshold=0.999)
    # 0-55: up 0-20, down 20-40, up 40-55; watcher off 55-100 (unknown); 100-120 up
    assert acc.down_s == pytest.approx(20)
    assert acc.up_s == pytest.approx(35 + 20)
    assert acc.unknown_s == pytest.approx(45)
    assert acc.elapsed_s == pytest.approx(120)
    assert acc.budget_s == pytest.approx(0.2)
    assert acc.ratio == pytest.approx(55 / 75)
    segs = availability.segments(samples, [(0, 55)], 15, 0, 70)
    assert [x[2] for x in segs] == ["up", "down", "up", "unknown"]
    assert segs[-1][:2] == (55, 70)


def test_availability_clips_to_the_window():
    acc = availability.account([(-50, False), (5, True)], [(-60, 20)], (0, 100), until=20, max_gap_s=100,
                               threshold=0.999)
    assert acc.down_s == pytest.approx(5) and acc.up_s == pytest.approx(15) and acc.samples == 1


def test_lag_counts_from_the_first_newer_corte():
    pub = {1: 100.0, 2: 200.0, 3: 300.0}
    assert lag_s(3, pub, 350) == 0
    assert lag_s(1, pub, 350) == 150
    assert lag_s(None, pub, 350) is None
    assert lag_s(2, {}, 350) is None


def test_texts_spanish_and_english_apart():
    inc = derive([s(1717380000 + t, down=True) for t in range(3)] + [s(1717380125, down=False),
                                                                      s(1717380126, down=False)])[0]
    es, en = summaries(inc, TZ)
    assert es.startswith("Sin respuesta desde 2 de junio de 2024, 20:00:00 h (UTC−6), durante 2 min 5 s (sin respuesta)")
    assert en.startswith("Down (no answer) from 2 June 2024, 20:00:00 (UTC−6), for 2 min 5 s")
    assert "durante" not in en and "from" not in es
    assert fmt_duration(3725) == "1 h 2 min 5 s" and fmt_duration(None, "en") == "ongoing"
    assert fmt_when(1717380000, TZ, "es", seconds=False) == "2 de junio de 2024, 20:00 h (UTC−6)"


SHARED = ["id", "difusor", "kind", "started_at", "ended_at", "duration_s", "first_evidence", "last_evidence",
          "summary_es", "summary_en"]


def test_incidents_table_keeps_the_shared_schema_and_wal(tmp_path):
    st = Store(tmp_path / "w.db", TZ)
    st.start_run(1717380000.0, 10)
    inc = derive([s(1717380000 + t, down=True) for t in range(2)])[0]
    st.begin()
    iid = st.open_incident(inc, summaries(inc, TZ))
    st.commit()
    st.close()
    db = sqlite3.connect(tmp_path / "w.db")
    cols = [r[1] for r in db.execute("PRAGMA table_info(incidents)")]
    assert cols[:len(SHARED)] == SHARED
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    row = db.execute("SELECT difusor, kind, started_at, ended_at, duration_s, first_evidence FROM incidents "
                     "WHERE id = ?", (iid,)).fetchone()
    assert row[:2] == ("d", "down") and row[2] == "2024-06-02T20:00:00.000-06:00" and row[3] is None
    assert json.loads(row[5])["reachable"] is False
    # a second store on the same file resumes: the open incident is there
    st2 = Store(tmp_path / "w.db", TZ)
    assert [i.id for i in st2.open_incidents()] == [iid]
    st2.close()
