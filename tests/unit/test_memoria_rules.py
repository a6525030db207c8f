"""II.4 (deadline, parts, incidents against the watch) and II.2.c from access logs: pure rules."""

import datetime as dt

import pytest

from prep_conformance.memoria import synth
from prep_conformance.memoria.build import as_of_date
from prep_conformance.memoria.logs import read_logs
from prep_conformance.memoria.stats import compute
from prep_conformance.rules import analytics
from prep_conformance.rules.memoria import Due, MemoriaObservation, WatchIncident, evaluate
from prep_conformance.verdict import Verdict

TZ = dt.timezone(dt.timedelta(hours=-6))
DEADLINE = dt.date(2024, 6, 15)
AFTER = Due(dt.date(2024, 6, 20), DEADLINE)
W1 = WatchIncident(1, "down", dt.datetime(2024, 6, 2, 20, 18, tzinfo=TZ), dt.datetime(2024, 6, 2, 20, 25, tzinfo=TZ), 420)
W2 = WatchIncident(2, "stale", dt.datetime(2024, 6, 3, 4, 40, tzinfo=dt.timezone.utc), None, None)   # 22:40 local
TEXT = ("Memoria técnica. 1. Reporte de incidencias: el 2 de junio a las 20:19 h el sitio no respondió; a las 22:40 "
        "h el corte se atrasó. 2. Estadísticas de visitas: 1 200 visitantes únicos. 3. Análisis y conclusiones: "
        "el tráfico se concentró a las 21 h. ") * 3


def tool_data(incidents, conclusions="Se cumplió."):
    return {"schema": "prep-conformance/memoria/1", "incidents": incidents, "stats": {"requests": {}},
            "facts": {"incidents": len(incidents)}, "conclusions": {"patterns": None, "improvements": None,
                                                                    "conclusions": conclusions}}


def test_not_due_before_the_deadline_is_skip_with_the_date():
    r = evaluate(Due(dt.date(2024, 6, 15), DEADLINE), None, None, TZ)
    assert r.verdict is Verdict.SKIP and "15 de junio de 2024" in r.summary and r.evidence["deadline"] == "2024-06-15"


def test_after_the_deadline_without_a_document_is_manual_with_what_to_read():
    r = evaluate(AFTER, None, None, TZ)
    assert r.verdict is Verdict.MANUAL and "documents.memoria" in r.summary and "incidencias" in r.summary


def test_text_pdf_listing_every_watch_incident_passes():
    r = evaluate(AFTER, MemoriaObservation("m.pdf", "pdf", TEXT), [W1, W2], TZ)
    assert r.verdict is Verdict.PASS, r.summary
    assert r.evidence["parts"] == {"a": True, "b": True, "c": True}


def test_text_pdf_omitting_a_watch_incident_fails_and_lists_it():
    text = TEXT.replace("22:40", "23:55")
    r = evaluate(AFTER, MemoriaObservation("m.pdf", "pdf", text), [W1, W2], TZ)
    assert r.verdict is Verdict.FAIL
    assert [o["watch_id"] for o in r.evidence["omitted"]] == [2] and "02/06 22:40 stale" in r.summary


def test_missing_part_fails():
    text = TEXT.replace("Análisis y conclusiones", "Cierre").replace("conclus", "x")
    r = evaluate(AFTER, MemoriaObservation("m.pdf", "pdf", text), [W1, W2], TZ)
    assert r.verdict is Verdict.FAIL and r.evidence["parts"]["c"] is False and "c) análisis" in r.summary


def test_tool_memoria_compared_by_its_attachment():
    inc = [{"watch_id": 1, "started_at": "2024-06-02T20:18:00-06:00", "kind": "down"},
           {"watch_id": None, "started_at": "2024-06-02T22:41:00-06:00", "kind": "stale"}]
    assert evaluate(AFTER, MemoriaObservation("m.pdf", "tool", "", tool_data(inc)), [W1, W2], TZ).verdict is Verdict.PASS
    r = evaluate(AFTER, MemoriaObservation("m.pdf", "tool", "", tool_data(inc[:1])), [W1, W2], TZ)
    assert r.verdict is Verdict.FAIL and [o["watch_id"] for o in r.evidence["omitted"]] == [2]
    r = evaluate(AFTER, MemoriaObservation("m.pdf", "tool", "", tool_data(inc, conclusions="")), [W1, W2], TZ)
    assert r.verdict is Verdict.FAIL and r.evidence["parts"]["c"] is False    # a draft: conclusions not written


def test_without_the_watch_db_it_is_manual():
    r = evaluate(AFTER, MemoriaObservation("m.pdf", "pdf", TEXT), None, TZ)
    assert r.verdict is Verdict.MANUAL and "--watch-db" in r.summary


def test_unreadable_or_scanned_memoria_is_manual():
    assert evaluate(AFTER, MemoriaObservation("m.pdf", "pdf", error="PDF ilegible"), [W1], TZ).verdict is Verdict.MANUAL
    assert evaluate(AFTER, MemoriaObservation("m.pdf", "pdf", "  "), [W1], TZ).verdict is Verdict.MANUAL


def test_as_of_override(monkeypatch):
    monkeypatch.setenv("PREP_AS_OF", "2024-06-10")
    assert as_of_date(None, TZ) == dt.date(2024, 6, 10)
    assert as_of_date("2024-06-16T03:00:00Z", TZ) == dt.date(2024, 6, 15)    # 21:00 on the 15th in UTC−6
    monkeypatch.delenv("PREP_AS_OF")
    assert as_of_date(None, TZ) == dt.datetime.now(TZ).date()
    with pytest.raises(ValueError):
        as_of_date("mañana", TZ)


def test_ii2c_from_logs_passes_with_figures(tmp_path):
    fig = compute(read_logs([synth.write_night(tmp_path / "a.log")]), synth.TZ)
    r = analytics.evaluate_logs(fig)
    assert r.verdict is Verdict.PASS
    assert (r.evidence["unique_visitors_period"], r.evidence["page_views"], r.evidence["sessions"]) == (5, 9, 6)


def test_ii2c_from_logs_without_pages_fails(tmp_path):
    polls_only = [e for e in synth.night_events() if "main.json" in e[3]]
    fig = compute(read_logs([synth.write_night(tmp_path / "a.log", events=polls_only)]), synth.TZ)
    r = analytics.evaluate_logs(fig)
    assert r.verdict is Verdict.FAIL and set(k for k, v in r.evidence["items"].items() if not v) == \
        {"pages", "pages_consulted"}


def test_ii2c_unreadable_logs_error_and_snippet_is_a_signal():
    assert analytics.evaluate_logs(None, "x.log: formato no reconocido").verdict is Verdict.ERROR
    page = analytics.PageObservation("https://x/", 200, "<html>nada</html>")
    assert analytics.as_signal(analytics.evaluate(page, None)).verdict is Verdict.SKIP
    ga = analytics.PageObservation("https://x/", 200, "<script src='https://www.googletagmanager.com/gtag/js'>")
    assert analytics.as_signal(analytics.evaluate(ga, None)).verdict is Verdict.PASS
