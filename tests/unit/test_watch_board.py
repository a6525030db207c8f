"""The board's page from a live-state snapshot: languages kept apart, colour plus text, 100 difusores."""

from __future__ import annotations

from prep_conformance.watch.board import render_board

from tests.support.watch_data import TZ, snapshot


def test_spanish_board_has_no_english_and_the_reverse():
    es = render_board(snapshot(10), "es", TZ, 10)
    en = render_board(snapshot(10), "en", TZ, 10)
    for word in ("Corte desactualizado", "Sin respuesta", "Disponibilidad", "hace 1 min 30 s", "100,000 %",
                 "2 de junio de 2024"):
        assert word in es
    for word in ("Stale corte", "Down (no answer)", "Availability", "1 min 30 s ago", "100.000 %", "2 June 2024"):
        assert word in en
    for word in ("Stale", "Down", "Availability", " ago", "Updated"):
        assert word not in es
    for word in ("desactualizado", "Sin respuesta", "Disponibilidad", "hace ", "Actualizado"):
        assert word not in en


def test_colour_and_text_for_every_row_and_self_refresh():
    html = render_board(snapshot(100), "es", TZ, 10)
    assert html.count('<tr class="s-') == 100
    assert '<meta http-equiv="refresh" content="10">' in html
    assert 'id="row-difusor-001" data-state="stale"' in html
    assert html.count('class="num late"') == 20        # lag beyond the tolerance stands out
    assert "<script" not in html
