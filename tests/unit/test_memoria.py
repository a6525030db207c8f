"""Memoria técnica: the synthetic night's figures exactly, in every format; incidents; the rendered PDF."""

import datetime as dt
import gzip
import json
import sqlite3
from pathlib import Path

import pytest

from prep_conformance.memoria import synth
from prep_conformance.memoria.geo import load as load_geo
from prep_conformance.memoria.incidents import Notes, load_notes, merge, read_watch_db
from prep_conformance.memoria.logs import MAX_LINE, LogError, ReadStats, read_logs
from prep_conformance.memoria.stats import compute

E = synth.EXPECTED

SCHEMA = """CREATE TABLE incidents (
  id INTEGER PRIMARY KEY, difusor TEXT NOT NULL,
  kind TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, duration_s REAL,
  first_evidence TEXT, last_evidence TEXT, summary_es TEXT, summary_en TEXT);"""


def make_watch_db(path: Path, rows) -> Path:
    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    con.executemany("INSERT INTO incidents VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    con.commit()
    con.close()
    return path


WATCH_ROWS = [
    (1, "medio-ejemplo", "down", "2024-06-02T20:18:00-06:00", "2024-06-02T20:25:00-06:00", 420.0, "timeout", "200",
     "Sin respuesta del sitio", "Site not answering"),
    (2, "medio-ejemplo", "stale", "2024-06-02T22:40:00-06:00", "2024-06-02T23:05:00-06:00", 1500.0, None, None,
     "Corte atrasado", "Corte behind"),
    (3, "otro-medio", "down", "2024-06-02T21:00:00-06:00", None, None, None, None, "x", "x"),
]


@pytest.fixture(scope="module")
def geo():
    g = load_geo()
    assert g is not None, "geoip2fast is a dependency"
    return g


@pytest.mark.parametrize("fmt,gz", [("combined", False), ("combined", True), ("cloudfront", True),
                                    ("jsonl", False)])
def test_night_figures_exact(tmp_path, geo, fmt, gz):
    log = synth.write_night(tmp_path / f"access.{fmt}{'.gz' if gz else ''}", fmt, gz)
    r = compute(read_logs([log]), synth.TZ, geo=geo)
    assert r["requests"] == {"total": E["requests"], "human": E["human"], "bots": E["bots"]}
    assert (r["page_views"], r["polls"], r["resources"]) == (E["page_views"], E["polls"], E["resources"])
    assert r["visitors"]["unique_daily_sum"] == E["unique_daily_sum"]
    assert r["visitors"]["unique_period"] == E["unique_period"]
    assert r["visitors"]["by_day"] == [{"day": "2024-06-02", "unique": 5}, {"day": "2024-06-03", "unique": 1}]
    s = r["sessions"]
    assert (s["count"], s["avg_duration_s"], s["avg_pages"], s["single_request"]) == \
        (E["sessions"], E["avg_duration_s"], E["avg_pages"], E["single_request"])
    assert [(p["path"], p["views"]) for p in r["top_pages"]] == E["top_pages"]
    assert r["status_codes"] == E["status_codes"]
    assert (r["peak_minute"]["at"], r["peak_minute"]["requests"]) == E["peak_minute"]
    assert (r["peak_hour"]["at"], r["peak_hour"]["requests"], r["peak_hour"]["page_views"]) == E["peak_hour"]
    assert {c["code"]: c["visitors"] for c in r["countries"]} == E["countries"]
    assert [(b["family"], b["requests"]) for b in r["bots"]["top"]] == E["bots_top"]
    assert r["errors_5xx"] == E["errors_5xx"]


def test_rotations_in_any_order_give_the_same_figures(tmp_path, geo):
    ev = synth.night_events()
    a = synth.write_night(tmp_path / "access.log.2.gz", "combined", True, ev[:9])
    b = synth.write_night(tmp_path / "access.log.1", "combined", False, ev[9:18])
    c = synth.write_night(tmp_path / "access.log", "combined", False, ev[18:])
    rs = ReadStats()
    r = compute(read_logs([c, a, b], stats=rs), synth.TZ, geo=geo)
    assert [f["file"] for f in rs.files] == ["access.log.2.gz", "access.log.1", "access.log"]
    assert r["sessions"]["count"] == E["sessions"] and r["visitors"]["unique_daily_sum"] == E["unique_daily_sum"]


def test_common_format_counts_visitors_by_ip(tmp_path):
    log = synth.write_night(tmp_path / "access.log", "common")
    r = compute(read_logs([log]), synth.TZ)
    # no user agent: V1 and V2 (one IP) are one visitor, bots cannot be told apart
    assert r["requests"]["total"] == E["requests"] and r["requests"]["bots"] == 0
    assert r["visitors"]["unique_period"] == 6      # 5 addresses of people... and the two bots' addresses
    assert r["polls"] == E["polls"] + 1            # curl's poll is a person's when nothing says otherwise


def test_idle_timeout_is_honoured(tmp_path):
    log = synth.write_night(tmp_path / "access.log")
    r = compute(read_logs([log]), synth.TZ, idle_timeout_s=3600)
    assert r["sessions"]["count"] == E["sessions"] - 1      # V1's return at 21:00 joins its first visit


def test_malformed_and_overlong_lines_are_counted_not_held(tmp_path):
    log = tmp_path / "access.log"
    good = synth.clf_line(synth.night_events()[0])
    log.write_text(good + "\nnot a log line\n" + "x" * (MAX_LINE * 3) + "\n" + good + "\n")
    rs = ReadStats()
    hits = list(read_logs([log], stats=rs))
    assert len(hits) == 2 and rs.malformed == 2


def test_unknown_format_and_missing_file_are_user_errors(tmp_path):
    junk = tmp_path / "junk.txt"
    junk.write_text("hello\nworld\n")
    with pytest.raises(LogError):
        list(read_logs([junk]))
    with pytest.raises(LogError):
        list(read_logs([tmp_path / "nope.log"]))


def test_watch_db_and_notes_merge(tmp_path):
    db = make_watch_db(tmp_path / "watch.db", WATCH_ROWS)
    watch = read_watch_db(db, "medio-ejemplo")
    assert [i.watch_id for i in watch] == [1, 2]
    notes = Notes.model_validate({"incidents": [
        {"watch_id": 1, "root_cause": "memoria agotada", "impact": "502", "measures": "reinicio"},
        {"started_at": "2024-06-02T22:43:00-06:00", "kind": "stale", "root_cause": "cola de cortes"},
        {"started_at": "2024-06-03T01:10:00-06:00", "ended_at": "2024-06-03T01:14:00-06:00", "summary": "purga"},
        {"watch_id": 99, "root_cause": "?"}]})
    merged, problems = merge(watch, notes)
    assert [(i.source, i.watch_id, i.root_cause) for i in merged] == [
        ("watch", 1, "memoria agotada"), ("watch", 2, "cola de cortes"), ("difusor", None, None)]
    assert merged[2].duration_s == 240
    assert len(problems) == 1 and "99" in problems[0]


def test_no_cause_is_invented(tmp_path):
    db = make_watch_db(tmp_path / "watch.db", WATCH_ROWS)
    merged, _ = merge(read_watch_db(db, "medio-ejemplo"), None)
    assert all(i.root_cause is None and i.impact is None and i.measures is None for i in merged)


def test_notes_errors_name_file_line_key(tmp_path):
    from prep_conformance.yamlsource import SourceErrors
    p = tmp_path / "notas.yaml"
    p.write_text("incidents:\n  - watch_id: 1\n    causa: x\n")
    with pytest.raises(SourceErrors) as exc:
        load_notes(p)
    assert "notas.yaml:3" in str(exc.value) and "causa" in str(exc.value)


def _profile(tmp_path):
    p = tmp_path / "perfil.yaml"
    p.write_text("id: medio-ejemplo\nname: Medio Ejemplo\nsites: {official: https://prep.medio.example/}\n"
                 "target: official\n")
    return p


@pytest.mark.parametrize("lang", ["es", "en"])
def test_memoria_command_writes_html_pdf_json(tmp_path, lang):
    import pypdf
    from prep_conformance.cli import main
    log = synth.write_night(tmp_path / "access.log.gz", gz=True)
    db = make_watch_db(tmp_path / "watch.db", WATCH_ROWS)
    notes = tmp_path / "notas.yaml"
    notes.write_text("incidents:\n  - watch_id: 1\n    root_cause: Memoria agotada en el origen\n")
    out = tmp_path / "out"
    code = main(["memoria", "--profile", str(_profile(tmp_path)), "--access-log", str(log), "--watch-db", str(db),
                 "--incidents", str(notes), "--out", str(out), "--lang", lang])
    assert code == 0
    doc = json.loads((out / "memoria.json").read_text(encoding="utf-8"))
    assert [i["watch_id"] for i in doc["incidents"]] == [1, 2]
    assert doc["stats"]["page_views"] == E["page_views"]
    reader = pypdf.PdfReader(out / "memoria.pdf")
    assert json.loads(reader.attachments["memoria.json"][0])["incidents"][0]["root_cause"] == \
        "Memoria agotada en el origen"
    text = " ".join(pg.extract_text() for pg in reader.pages)
    html = (out / "memoria.html").read_text(encoding="utf-8")
    if lang == "es":
        for s in ("Reporte de incidencias", "Estadísticas de visitas", "Análisis y conclusiones",
                  "2 de junio de 2024, 20:18 h", "No declarada por el difusor", "Memoria agotada en el origen",
                  "Estados Unidos", "México"):
            assert s in text, s
        for s in ("Incident report", "Page views", "Not declared", "United States"):
            assert s not in html, s
    else:
        for s in ("Incident report", "Visit statistics", "Analysis and conclusions", "2 June 2024, 20:18",
                  "United States"):
            assert s in text, s
        for s in ("Reporte de incidencias", "Páginas vistas", "No declarada"):
            assert s not in html, s
    assert "<script" not in html and "http://" not in html.split("<body>")[1].replace("http://www.google", "")


def test_memoria_command_user_errors(tmp_path, capsys):
    from prep_conformance.cli import main
    out = tmp_path / "out"
    assert main(["memoria", "--profile", str(_profile(tmp_path)), "--access-log", str(tmp_path / "none.log"),
                 "--out", str(out)]) == 2
    bad = tmp_path / "notas.yaml"
    bad.write_text("incidents: [{when: x}]\n")
    log = synth.write_night(tmp_path / "a.log")
    assert main(["memoria", "--profile", str(_profile(tmp_path)), "--access-log", str(log), "--incidents",
                 str(bad), "--out", str(out)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_clf_variants_escaped_quotes_vhost_and_extra_fields(tmp_path):
    log = tmp_path / "access.log"
    log.write_text(
        # Apache escapes a quote in the user agent as \" ; vhost_combined puts the host first;
        # nginx "main" adds X-Forwarded-For after the user agent
        '1.2.3.4 - - [02/Jun/2024:20:00:00 -0600] "GET /a.html HTTP/1.1" 200 10 "-" "Mozilla \\"x\\" y"\n'
        'prep.medio.example:443 1.2.3.5 - - [02/Jun/2024:20:00:01 -0600] "GET /?q=1 HTTP/2.0" 304 - "-" "Mozilla"\n'
        '1.2.3.6 - - [02/Jun/2024:20:00:02 -0600] "GET /b/ HTTP/1.1" 200 10 "-" "Mozilla" "10.0.0.1"\n'
        '1.2.3.7 - - [02/Jun/2024:20:00:03 -0600] "\\x16\\x03\\x01" 400 150 "-" "-"\n')
    hits = list(read_logs([log]))
    assert [(h.ip, h.path, h.status, h.ua) for h in hits] == [
        ("1.2.3.4", "/a.html", 200, 'Mozilla "x" y'), ("1.2.3.5", "/", 304, "Mozilla"),
        ("1.2.3.6", "/b/", 200, "Mozilla"), ("1.2.3.7", "-", 400, "-")]
    assert hits[0].ts == dt.datetime(2024, 6, 2, 20, tzinfo=synth.TZ).timestamp()


def test_reads_the_watch_store_as_the_watch_writes_it(tmp_path):
    """The db written by ``watch`` itself (its Store), not only a hand-made one with the fixed schema."""
    from prep_conformance.watch.incidents import Incident as WatchIncident
    from prep_conformance.watch.store import Store
    tz = synth.TZ
    store = Store(tmp_path / "watch.db", tz)
    t0 = dt.datetime(2024, 6, 2, 20, 18, tzinfo=tz).timestamp()
    import dataclasses
    inc = WatchIncident("medio-ejemplo", "down", t0)
    inc = dataclasses.replace(inc, id=store.open_incident(inc, ("Sin respuesta", "Down")), ended_at=t0 + 420)
    store.close_incident(inc, ("Sin respuesta 7 min", "Down 7 min"))
    store.open_incident(WatchIncident("medio-ejemplo", "stale", t0 + 3600), ("Atrasado", "Stale"))
    (got_closed, got_open) = read_watch_db(tmp_path / "watch.db", "medio-ejemplo")   # while the writer holds it
    store.close()
    assert (got_closed.kind, got_closed.duration_s, got_closed.summary_es) == ("down", 420, "Sin respuesta 7 min")
    assert got_closed.started_at == dt.datetime(2024, 6, 2, 20, 18, tzinfo=tz)
    assert got_open.ended_at is None and got_open.duration_s is None
