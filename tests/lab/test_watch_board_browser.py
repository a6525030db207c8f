"""The board with 100 difusores in Debian's headless chromium (the page as a DEOE screen shows it)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile

import pytest

from prep_conformance.watch.board import render_board
from tests.support.watch_data import snapshot

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (bootstrap.sh installs it)")
def test_hundred_difusores_render_in_chromium(tmp_path):
    page = tmp_path / "tablero.html"
    page.write_text(render_board(snapshot(100), "es", dt.timezone(dt.timedelta(hours=-6)), 3600), encoding="utf-8")
    shot = tmp_path / "tablero.png"
    common = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
              "--window-size=1400,4000", f"--user-data-dir={tmp_path / 'chromium'}"]
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=90).stdout
    assert dom.count('<tr class="s-') == 100
    subprocess.run([*common, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=90)
    from tests.support.png import read_png
    w, h, _ = read_png(shot.read_bytes())
    assert (w, h) == (1400, 4000)
