"""II.4 and II.2.c end to end: a memoria made by the tool, a PDF made by hand, the watch db, --as-of."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from prep_conformance.memoria import synth

CLI = [sys.executable, "-m", "prep_conformance.cli"]
SCHEMA = """CREATE TABLE incidents (
  id INTEGER PRIMARY KEY, difusor TEXT NOT NULL,
  kind TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, duration_s REAL,
  first_evidence TEXT, last_evidence TEXT, summary_es TEXT, summary_en TEXT);"""
ROWS = [(1, "medio-ejemplo", "down", "2024-06-02T20:18:00-06:00", "2024-06-02T20:25:00-06:00", 420.0, None, None,
         "Sin respuesta", "Down"),
        (2, "medio-ejemplo", "stale", "2024-06-02T22:40:00-06:00", "2024-06-02T23:05:00-06:00", 1500.0, None, None,
         "Corte atrasado", "Stale")]


def run_cli(*args, env=None):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def watch_db(path: Path, rows) -> Path:
    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    con.executemany("INSERT INTO incidents VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    con.commit()
    con.close()
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A difusor folder: its access log, its memoria made by the tool (with conclusions), its profile."""
    d = tmp_path_factory.mktemp("difusor")
    (d / "logs").mkdir()
    synth.write_night(d / "logs" / "access.log.1.gz", gz=True)
    db = watch_db(d / "watch.db", ROWS)
    (d / "notas.yaml").write_text("incidents:\n  - watch_id: 1\n    root_cause: Disco lleno\n"
                                  "conclusions:\n  conclusions: Sin otras incidencias.\n", encoding="utf-8")
    prof = d / "perfil.yaml"
    prof.write_text("id: medio-ejemplo\nname: Medio Ejemplo\nsites: {official: http://127.0.0.1:9/}\n"
                    "target: official\ndocuments: {memoria: docs/memoria.pdf}\n"
                    "analytics: {access_logs: [logs/access.log.1.gz]}\n", encoding="utf-8")
    p = run_cli("memoria", "--profile", prof, "--access-log", d / "logs" / "access.log.1.gz", "--watch-db", db,
                "--incidents", d / "notas.yaml", "--out", d / "docs")
    assert p.returncode == 0, p.stderr
    return d


def results(out: Path) -> dict:
    d = json.loads((out / "results.json").read_text(encoding="utf-8"))["difusores"][0]
    return {"req": d["requirements"], "checks": {c["check"]: c for c in d["checks"] if c["check"] != "not_selected"}}


def test_tool_memoria_after_the_deadline_passes_and_ii2c_from_logs(site, tmp_path):
    out = tmp_path / "out"
    p = run_cli("run", "--profile", site / "perfil.yaml", "--out", out, "--only", "II.4", "--only", "II.2.c",
                "--watch-db", site / "watch.db", "--as-of", "2024-06-16")
    r = results(out)
    assert r["req"]["II.4"] == "PASS", r["checks"]["memoria_tecnica"]
    assert r["checks"]["memoria_tecnica"]["evidence"]["compared_by"] == "attachment"
    assert r["req"]["II.2.c"] == "PASS"
    ev = r["checks"]["access_log_statistics"]["evidence"]
    assert (ev["unique_visitors_period"], ev["page_views"], ev["sessions"], ev["avg_time_on_site_s"]) == \
        (5, 9, 6, 152.7)
    assert r["checks"]["analytics_detected"]["verdict"] == "SKIP"      # unreachable page: a signal only
    assert p.returncode == 0, p.stdout + p.stderr


def test_before_the_deadline_skip_via_env(site, tmp_path):
    out = tmp_path / "out"
    run_cli("run", "--profile", site / "perfil.yaml", "--out", out, "--only", "II.4", env={"PREP_AS_OF": "2024-06-01"})
    r = results(out)
    assert r["req"]["II.4"] == "SKIP" and "15 de junio de 2024" in r["checks"]["memoria_tecnica"]["summary"]


def test_an_incident_the_watch_saw_and_the_memoria_omits_fails(site, tmp_path):
    db = watch_db(tmp_path / "watch.db", ROWS + [(7, "medio-ejemplo", "altered", "2024-06-03T01:30:00-06:00",
                                                  "2024-06-03T01:50:00-06:00", 1200.0, None, None, "x", "x")])
    out = tmp_path / "out"
    p = run_cli("run", "--profile", site / "perfil.yaml", "--out", out, "--only", "II.4", "--watch-db", db,
                "--as-of", "2024-06-16")
    r = results(out)
    c = r["checks"]["memoria_tecnica"]
    assert r["req"]["II.4"] == "FAIL" and [o["watch_id"] for o in c["evidence"]["omitted"]] == [7]
    assert "03/06 01:30 altered" in c["summary"] and p.returncode == 1


def test_a_hand_made_pdf_is_read_as_text(tmp_path):
    import weasyprint
    d = tmp_path
    (d / "docs").mkdir()
    html = ("<h1>Memoria técnica</h1><h2>Reporte de incidencias</h2><p>2 de junio, 20:18 h: caída de 7 minutos. "
            "Causa: disco lleno.</p><h2>Estadísticas de visitas</h2><p>1 234 visitantes únicos; páginas más "
            "visitadas: inicio.</p><h2>Análisis y conclusiones</h2><p>El tráfico se concentró entre las 21 y las "
            "22 h; se recomienda ampliar el disco.</p>") * 2
    weasyprint.HTML(string=html).write_pdf(d / "docs" / "memoria.pdf")
    (d / "perfil.yaml").write_text("id: medio-ejemplo\nsites: {official: http://127.0.0.1:9/}\ntarget: official\n"
                                   "documents: {memoria: docs/memoria.pdf}\n", encoding="utf-8")
    out = d / "out"
    run_cli("run", "--profile", d / "perfil.yaml", "--out", out, "--only", "II.4", "--watch-db",
            watch_db(d / "watch.db", ROWS), "--as-of", "2024-06-16")
    c = results(out)["checks"]["memoria_tecnica"]
    assert c["verdict"] == "FAIL" and c["evidence"]["compared_by"].startswith("text")
    assert [o["watch_id"] for o in c["evidence"]["omitted"]] == [2]       # 22:40 is not in the text


def test_ii2c_from_the_tools_memoria_when_no_logs_are_named(site, tmp_path):
    prof = site / "perfil-sin-bitacoras.yaml"
    prof.write_text("id: medio-ejemplo\nsites: {official: http://127.0.0.1:9/}\ntarget: official\n"
                    "documents: {memoria: docs/memoria.pdf}\n", encoding="utf-8")
    out = tmp_path / "out"
    run_cli("run", "--profile", prof, "--out", out, "--only", "II.2.c")
    r = results(out)
    c = r["checks"]["access_log_statistics"]
    assert r["req"]["II.2.c"] == "PASS" and c["evidence"]["source"] == "documents.memoria"
    assert c["evidence"]["page_views"] == 9
