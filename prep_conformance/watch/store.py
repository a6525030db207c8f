"""The watch's SQLite file: samples, incidents, the reference's cortes and the watcher's own runs.

WAL mode: readers (the report, the memoria, a person with ``sqlite3``) read while the watcher writes. One
writer, the watcher's main thread. A restart appends a new run to the same file; the time between the
last heartbeat of one run and the start of the next is the watcher's own downtime, counted as unknown.

The ``incidents`` columns up to ``summary_en`` are shared with the memoria (issue 13): never rename them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Mapping

from .incidents import Incident

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, ended_at TEXT, t_start REAL NOT NULL, t_end REAL NOT NULL,
  host TEXT, pid INTEGER, interval_s REAL, stop_reason TEXT);
CREATE TABLE IF NOT EXISTS difusores (id TEXT PRIMARY KEY, name TEXT, target TEXT);
CREATE TABLE IF NOT EXISTS reference (secuencia INTEGER PRIMARY KEY, corte_iso TEXT, first_seen REAL NOT NULL,
  first_seen_at TEXT, source TEXT);
CREATE TABLE IF NOT EXISTS samples (
  id INTEGER PRIMARY KEY, run_id INTEGER, difusor TEXT NOT NULL, t REAL NOT NULL, at TEXT NOT NULL,
  reachable INTEGER NOT NULL, up INTEGER NOT NULL, status INTEGER, latency_s REAL, error TEXT, error_kind TEXT,
  cache_control TEXT, secuencia INTEGER, corte_iso TEXT, ref_secuencia INTEGER, lag_s REAL, tls_error TEXT,
  flags TEXT, integrity TEXT);
CREATE INDEX IF NOT EXISTS samples_difusor_t ON samples (difusor, t);
CREATE TABLE IF NOT EXISTS incidents (
  id INTEGER PRIMARY KEY,
  difusor TEXT NOT NULL,        -- profile id
  kind TEXT NOT NULL,           -- down | http_error | stale | altered | missing | cache_control | tls
  started_at TEXT NOT NULL,     -- ISO 8601 with UTC offset
  ended_at TEXT,                -- NULL while open
  duration_s REAL,              -- NULL while open
  first_evidence TEXT,          -- JSON
  last_evidence TEXT,           -- JSON
  summary_es TEXT,
  summary_en TEXT,
  t_start REAL, t_end REAL, run_id INTEGER, samples INTEGER);
CREATE INDEX IF NOT EXISTS incidents_difusor ON incidents (difusor, kind);
"""


def iso(t: float | None, tz: dt.tzinfo) -> str | None:
    return None if t is None else dt.datetime.fromtimestamp(t, tz).isoformat(timespec="milliseconds")


class Store:
    """One watcher's db (the writer)."""

    def __init__(self, path: str | Path, tz: dt.tzinfo):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tz = tz
        self.db = sqlite3.connect(str(self.path), timeout=10, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.run_id: int | None = None

    def close(self) -> None:
        self.db.close()

    # -- meta, difusores, reference
    def meta(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM meta")}

    def set_meta(self, values: Mapping[str, Any]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                [(k, json.dumps(v)) for k, v in values.items()])

    def add_difusores(self, rows: Iterable[tuple[str, str, str]]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO difusores VALUES (?, ?, ?)", list(rows))

    def published_at(self) -> dict[int, float]:
        return {s: t for s, t in self.db.execute("SELECT secuencia, first_seen FROM reference")}

    def add_reference(self, secuencia: int, corte_iso: str | None, first_seen: float, source: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO reference VALUES (?, ?, ?, ?, ?)",
                        (secuencia, corte_iso, first_seen, iso(first_seen, self.tz), source))

    # -- runs
    def start_run(self, t: float, interval_s: float) -> int:
        cur = self.db.execute("INSERT INTO runs (started_at, t_start, t_end, host, pid, interval_s) "
                              "VALUES (?, ?, ?, ?, ?, ?)",
                              (iso(t, self.tz), t, t, socket.gethostname(), os.getpid(), interval_s))
        self.run_id = int(cur.lastrowid)
        return self.run_id

    def heartbeat(self, t: float) -> None:
        self.db.execute("UPDATE runs SET t_end = ? WHERE id = ?", (t, self.run_id))

    def end_run(self, t: float, reason: str) -> None:
        self.db.execute("UPDATE runs SET t_end = ?, ended_at = ?, stop_reason = ? WHERE id = ?",
                        (t, iso(t, self.tz), reason, self.run_id))

    # -- samples and incidents
    def begin(self) -> None:
        self.db.execute("BEGIN")

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def add_sample(self, s) -> None:
        self.db.execute(
            "INSERT INTO samples (run_id, difusor, t, at, reachable, up, status, latency_s, error, error_kind, "
            "cache_control, secuencia, corte_iso, ref_secuencia, lag_s, tls_error, flags, integrity) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (self.run_id, s.difusor, s.t, iso(s.t, self.tz), int(s.reachable), int(s.up), s.status, s.latency_s,
             s.error, s.error_kind, s.cache_control, s.secuencia, s.corte_iso, s.ref_secuencia, s.lag_s,
             s.tls_error, json.dumps(dict(s.flags)), json.dumps(dict(s.integrity)) if s.integrity else None))

    def open_incident(self, inc: Incident, summary: tuple[str, str]) -> int:
        cur = self.db.execute(
            "INSERT INTO incidents (difusor, kind, started_at, first_evidence, last_evidence, summary_es, "
            "summary_en, t_start, run_id, samples) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (inc.difusor, inc.kind, iso(inc.started_at, self.tz), json.dumps(dict(inc.first_evidence)),
             json.dumps(dict(inc.last_evidence)), summary[0], summary[1], inc.started_at, self.run_id, inc.samples))
        return int(cur.lastrowid)

    def update_incident(self, inc: Incident) -> None:
        self.db.execute("UPDATE incidents SET last_evidence = ?, samples = ? WHERE id = ?",
                        (json.dumps(dict(inc.last_evidence)), inc.samples, inc.id))

    def close_incident(self, inc: Incident, summary: tuple[str, str]) -> None:
        self.db.execute("UPDATE incidents SET ended_at = ?, duration_s = ?, t_end = ?, last_evidence = ?, "
                        "summary_es = ?, summary_en = ?, samples = ? WHERE id = ?",
                        (iso(inc.ended_at, self.tz), inc.duration_s, inc.ended_at, json.dumps(dict(inc.last_evidence)),
                         summary[0], summary[1], inc.samples, inc.id))

    def open_incidents(self) -> list[Incident]:
        rows = self.db.execute("SELECT id, difusor, kind, t_start, first_evidence, last_evidence, samples "
                               "FROM incidents WHERE ended_at IS NULL").fetchall()
        return [Incident(d, k, t, None, json.loads(f or "{}"), json.loads(l or "{}"), i, n or 0)
                for i, d, k, t, f, l, n in rows]


# ---------------------------------------------------------------------------------------------- readers


def connect_ro(path: str | Path) -> sqlite3.Connection:
    """A read-only connection (safe while the watcher writes)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such watch db: {p}")
    db = sqlite3.connect(f"file:{p.resolve()}?mode=ro", uri=True, timeout=10)
    db.row_factory = sqlite3.Row
    return db
