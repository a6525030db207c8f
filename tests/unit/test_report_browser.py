"""The reports in a real browser (Debian's headless Chromium): the matrix's filters work, its header and
first column stay in view, each cell says its reason; the informe reads at phone width (no sideways
scrolling of the page); screenshots at desktop and phone width are kept for a person to look at."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from prep_conformance.report.render import render_run

DATA = Path(__file__).resolve().parents[1] / "data" / "report" / "lab-results.json"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("chromium is missing: bootstrap.sh installs it")
    pytest.skip("chromium is not installed (bootstrap.sh installs it)", allow_module_level=True)

# A harness page beside the reports: it loads a report in an iframe of a given width, drives it as a
# reviewer would and writes what it saw into its own DOM, which --dump-dom prints.
HARNESS = """<!doctype html><meta charset="utf-8"><body>
<iframe id="f" src="%(page)s" style="width:%(width)spx;height:900px;border:0"></iframe>
<pre id="out">pending</pre>
<script>
document.getElementById('f').addEventListener('load', function () {
  var w = this.contentWindow, d = w.document, out = {};
  try { %(script)s } catch (e) { out.error = String(e); }
  document.getElementById('out').textContent = 'RESULT' + JSON.stringify(out) + 'END';
});
</script>"""

MATRIX_SCRIPT = """
var rows = function () { return Array.prototype.filter.call(d.querySelectorAll('#matrix tbody tr'),
  function (tr) { return tr.style.display !== 'none'; }); };
out.rows_all = rows().length;
var th = d.querySelector('#matrix thead th');
out.header_position = w.getComputedStyle(th).position;
out.first_col_position = w.getComputedStyle(d.querySelector('#matrix tbody td.who')).position;
var cell = d.querySelector('#matrix tbody td[data-req="II.1.e"][data-v="FAIL"]');
out.tooltip = cell ? cell.getAttribute('title') : null;
out.totals_fail_II1e = d.querySelector('#matrix tfoot tr[data-v="FAIL"] td[data-req="II.1.e"]').textContent.trim();
d.getElementById('req').value = 'II.1.e';
d.querySelectorAll('.vf').forEach(function (c) { c.checked = (c.value === 'FAIL'); });
w.applyFilter();
out.rows_fail_II1e = rows().map(function (tr) { return tr.dataset.name; });
out.visible_columns = Array.prototype.filter.call(d.querySelectorAll('#matrix thead th.req'),
  function (el) { return el.style.display !== 'none'; }).map(function (el) { return el.dataset.req; });
"""

PHONE_SCRIPT = """
out.client_width = d.documentElement.clientWidth;
out.scroll_width = d.documentElement.scrollWidth;
"""


def _chromium(*args: str, timeout: int = 120) -> str:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--allow-file-access-from-files", "--virtual-time-budget=8000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout).stdout


def _drive(out: Path, page: str, width: int, script: str) -> dict:
    harness = out / f"harness-{width}.html"
    harness.write_text(HARNESS % {"page": page, "width": width, "script": script}, encoding="utf-8")
    dom = _chromium("--dump-dom", harness.as_uri())
    assert "RESULT" in dom, dom[-2000:]
    import html
    return json.loads(html.unescape(dom.split("RESULT", 1)[1].split("END", 1)[0]))


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    doc = json.loads(DATA.read_text(encoding="utf-8"))
    out = tmp_path_factory.mktemp("browser")
    render_run(doc, out, "es")
    return out, doc


def test_matrix_filters_totals_sticky_and_tooltips(reports):
    out, doc = reports
    seen = _drive(out, "index.html", 1366, MATRIX_SCRIPT)
    assert "error" not in seen, seen
    assert seen["rows_all"] == len(doc["difusores"])
    assert seen["header_position"] == "sticky" and seen["first_col_position"] == "sticky"
    failing = sorted(d["id"] for d in doc["difusores"] if d["requirements"]["II.1.e"] == "FAIL")
    assert failing, "the fixture has a difusor failing II.1.e"
    assert sorted(n.split()[0] for n in seen["rows_fail_II1e"]) == failing
    assert seen["visible_columns"] == ["II.1.e"]
    assert seen["totals_fail_II1e"] == str(len(failing))
    assert seen["tooltip"] and "No cumple" in seen["tooltip"] and "caché" in seen["tooltip"]


def test_informe_reads_at_phone_width_and_screenshots(reports):
    out, doc = reports
    page = "edge-caches-anyway.html"
    seen = _drive(out, page, 390, PHONE_SCRIPT)
    assert "error" not in seen, seen
    assert seen["scroll_width"] <= seen["client_width"] + 2, seen   # no sideways scrolling of the page
    for name, size in (("desktop", "1366,900"), ("phone", "390,844")):
        png = out / f"{name}.png"
        _chromium(f"--window-size={size}", f"--screenshot={png}", (out / page).as_uri())
        assert png.exists() and png.stat().st_size > 10_000
