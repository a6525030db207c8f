"""Honest headline and display states (pure): "Cumple" only with nothing failed, unevaluable, pending or
unverified; a not-authorised check is "No verificado", not "No aplica"; dates and plurals as a Mexican
reader writes them; developer text rewritten."""

from prep_conformance import catalog
from prep_conformance.report.evidence import clean, field_changes, headline, pending_items, requirement_state
from prep_conformance.report.i18n import check_title, fmt_datetime


def _dif(**over):
    reqs = {rid: "PASS" for rid in catalog.requirement_ids()}
    reqs.update(over)
    return {"id": "x", "requirements": reqs, "checks": []}


def test_headline_states():
    assert headline(_dif()) == "cumple"
    assert headline(_dif(**{"II.1.e": "FAIL", "II.1.d": "ERROR"})) == "no_cumple"
    assert headline(_dif(**{"II.1.d": "ERROR", "II.2.e": "MANUAL"})) == "no_evaluable"
    assert headline(_dif(**{"II.2.e": "MANUAL"})) == "pendiente"
    assert headline(_dif(**{"II.2.a": "SKIP"})) == "cumple"      # a SKIP that does not apply


def test_not_authorised_is_not_verified_and_pending():
    d = _dif(**{"II.2.a": "SKIP"})
    d["checks"] = [{"requirement": "II.2.a", "check": "load_thresholds", "verdict": "SKIP",
                    "summary": "Prueba de carga no autorizada.", "evidence": {"not_verified": True}}]
    assert requirement_state(d, "II.2.a") == "NOT_VERIFIED"
    assert headline(d) == "no_verificado"
    rows = pending_items(d, "es")
    assert [r["id"] for r in rows] == ["II.2.a"] and rows[0]["criterion"].startswith("Se acepta")


def test_dates_in_the_calls_offset_and_titles():
    assert fmt_datetime("2024-06-03T02:00:00+00:00", "es", -360) == "2 de junio de 2024, 20:00 h (UTC−6)"
    assert fmt_datetime("2024-06-03T02:00:00+00:00", "en", -360) == "2 June 2024, 20:00 (UTC−6)"
    assert check_title("main_json_cache_control[edge-GET]", "es") == "Cache-Control de main.json (borde, GET)"


def test_clean_rewrites_developer_text():
    assert clean("mediana de 1 ronda(s); 3 archivo(s) alterado(s)") == "mediana de 1 ronda; 3 archivos alterados"
    assert clean("cifrados {'TLS_A', 'TLS_B'}") == "cifrados TLS_A, TLS_B"
    text = clean("No se pudo evaluar: ConnectionError: HTTPSConnectionPool(host='a.example', port=443): "
                 "Max retries exceeded (Caused by NewConnectionError('x: [Errno 111] Connection refused'))")
    assert "HTTPSConnectionPool" not in text and "conexión rechazada" in text


def test_changed_csv_fields_are_named_by_the_header():
    diff = [{"op": " ", "line": 1, "text": "CLAVE,PAZ,PVL"}, {"op": "-", "line": 2, "text": "A1,74,3"},
            {"op": "+", "line": 2, "text": "A1,75,3"}]
    assert field_changes(diff) == [{"line": 2, "column": "PAZ", "expected": "74", "served": "75"}]
