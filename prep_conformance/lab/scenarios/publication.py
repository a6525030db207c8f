"""Publication scenarios (issue 6): integrity, the corte served and shown, and the corte drill.

Each fails the requirement named in ``expect`` and nothing else. ``core.py`` already has a stale corte
two behind, one altered byte and a purge that answers 200 without purging; these add what it lacks.

The drill scenarios need the lab's sshd (started when any ``ssh-*`` scenario is up): their profile
gets ``cdn.drill: true``, an ``ssh:`` section whose ``upload_dir`` is the scenario's docroot (the lab
shell user may write it), and a copy of the lab convocatoria with ``purge.fresh_within_s`` small so a
drill that must fail does not take a minute. Without sshd they are judged without the drill.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterator

import yaml

from ..scenario import Scenario
from ..varnish import VCL_RECV

DRILL_BOUND_S = 8.0                 # the lab's drill bound: Varnish purges at once, polls every 0.25 s
DRILL_CONVOCATORIA = "convocatoria-lab-drill.yaml"
RELAXED_CONVOCATORIA = "convocatoria-lab-drill-holgada.yaml"
RELAXED_BOUND_S = 600.0             # ten times the institute's 60 s
INCOMING = ".incoming"              # nginx denies dot-paths: an upload folder the site never serves

_CTX: dict[str, Any] = {}           # the lab Context, captured by the mutations (run before profiles)

_ORIGIN_TEMPLATE = (Path(__file__).resolve().parent.parent / "templates" / "origin.conf.j2")


def _origin_with_index(first: str) -> str:
    """The lab's own origin template, serving ``first`` at ``/`` before index.html."""
    text = _ORIGIN_TEMPLATE.read_text(encoding="utf-8")
    return text.replace("index index.html;", f"index {first} index.html;")


# ---------------------------------------------------------------------------------------------- mutations


def _alter_vote(docroot: Path, ctx) -> None:
    """Change one party's votes in the first acta row of the AYUN CSV (same length: the digit is bumped)."""
    p = next(docroot.glob("csv/*AYUN*.csv"))
    lines = p.read_bytes().split(b"\r\n")
    header_i = next(i for i, ln in enumerate(lines) if b"CODIGO_INTEGRIDAD" in ln)
    cols = lines[header_i].split(b",")
    row = lines[header_i + 1].split(b",")
    j = cols.index(b"PAZ")
    v = row[j]
    row[j] = v[:-1] + bytes([ord("0") + (v[-1] - ord("0") + 1) % 10])
    lines[header_i + 1] = b",".join(row)
    p.write_bytes(b"\r\n".join(lines))


def _corte_line_earlier(docroot: Path, ctx) -> None:
    """The DIP_LOC CSV's corte line says one corte earlier than main.json (an edited file)."""
    p = next(docroot.glob("csv/*DIP_LOC*.csv"))
    lines = p.read_bytes().split(b"\r\n")
    m = re.match(rb"(\d\d/\d\d/\d{4}) (\d\d):(\d\d)(.*)", lines[1])
    hh, mm = int(m.group(2)), int(m.group(3)) - 20
    if mm < 0:
        hh, mm = hh - 1, mm + 60
    lines[1] = m.group(1) + f" {hh:02d}:{mm:02d}".encode() + m.group(4)
    p.write_bytes(b"\r\n".join(lines))


def _drop_acta(docroot: Path, ctx) -> None:
    sorted(docroot.glob("actas/*.png"))[len(list(docroot.glob("actas/*.png"))) // 2].unlink()


def _drop_asset(docroot: Path, ctx) -> None:
    (docroot / "assets" / "app.js").unlink()


PORTADA = """<!DOCTYPE html>
<html lang="es"><head><meta charset="utf-8"><title>Resultados PREP · Medio de laboratorio</title></head>
<body><h1>Resultados electorales preliminares</h1>
<p>Consulte los resultados del PREP 2024 en nuestro micrositio.</p>
<p><a href="index.html">Ver resultados</a> · <a href="csv/">Base de datos</a></p>
</body></html>
"""


def _landing_without_corte(docroot: Path, ctx) -> None:
    (docroot / "portada.html").write_text(PORTADA, encoding="utf-8")


PORTADA_JS = """<!DOCTYPE html>
<html lang="es"><head><meta charset="utf-8"><title>Resultados PREP · Medio de laboratorio</title></head>
<body><h1>Resultados electorales preliminares</h1>
<p id="corte">Cargando el corte…</p>
<p><a href="index.html">Ver resultados</a></p>
<script>
fetch("json/main.json", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (m) {
  var c = m.ultimoCorte;
  document.getElementById("corte").textContent = "Corte: " + c.fecha + " " + c.hora + " (" + c.zona + ")";
});
</script>
</body></html>
"""


def _landing_with_js_corte(docroot: Path, ctx) -> None:
    (docroot / "portada.html").write_text(PORTADA_JS, encoding="utf-8")


def _drill_ready(docroot: Path, ctx, incoming: bool = False) -> None:
    """Let the lab's SFTP user write the docroot (lab only), and write the drill convocatoria."""
    _CTX["ctx"] = ctx
    if incoming:
        (docroot / INCOMING).mkdir(exist_ok=True)
    for d, dirs, files in os.walk(docroot):
        os.chmod(d, 0o777)
        for f in files:
            os.chmod(os.path.join(d, f), 0o666)
    conv = yaml.safe_load(Path(ctx.convocatoria_path).read_text(encoding="utf-8"))
    conv.setdefault("purge", {}).update({"fresh_within_s": DRILL_BOUND_S, "poll_interval_s": 0.25})
    (Path(ctx.state) / DRILL_CONVOCATORIA).write_text(
        "# LAB COPY for the corte drill scenarios: purge.fresh_within_s lowered so a failing drill is quick.\n"
        + yaml.safe_dump(conv, sort_keys=False, allow_unicode=True), encoding="utf-8")
    # A difusor's own copy that keeps the institute's id and loosens the purge bound (issue 10): at best WARN.
    conv["purge"]["fresh_within_s"] = RELAXED_BOUND_S
    (Path(ctx.state) / RELAXED_CONVOCATORIA).write_text(
        "# A PROFILE'S OWN COPY of the institute's convocatoria, purge bound loosened (never a clean PASS).\n"
        + yaml.safe_dump(conv, sort_keys=False, allow_unicode=True), encoding="utf-8")


class DrillProfile(Mapping):
    """The drill scenarios' profile additions, computed when the lab writes profiles (ports known then)."""

    def __init__(self, sid: str, incoming: bool = False, convocatoria: str = DRILL_CONVOCATORIA):
        self.sid, self.incoming, self.convocatoria = sid, incoming, convocatoria

    def _doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"cdn": {"drill": True}}
        ctx = _CTX.get("ctx")
        if ctx is None:
            return doc
        doc["convocatoria"] = f"../{self.convocatoria}"
        port = ctx.record.get("ports", {}).get("lab:sshd")
        if port is None:
            return doc
        from ..sshd import SshdLab
        ssh = dict(SshdLab(Path(ctx.state) / "sshd", port=port).profile_ssh("ssh-compliant"))
        root = str(ctx.docroot(self.sid))
        ssh["upload_dir"] = os.path.join(root, INCOMING) if self.incoming else root
        ssh.pop("scratch_dir", None)
        doc["ssh"] = ssh
        return doc

    def __getitem__(self, k):
        return self._doc()[k]

    def __iter__(self) -> Iterator[str]:
        return iter(self._doc())

    def __len__(self) -> int:
        return len(self._doc())


# PURGE and BAN answered 200, nothing purged; every object but main.json kept 10 minutes.
IGNORE_PURGE_RECV = re.sub(r"return \(purge\);", 'return (synth(200, "Purged"));', VCL_RECV)
IGNORE_PURGE_RECV = re.sub(r"\s*ban\(.*\);\n", "\n", IGNORE_PURGE_RECV)
TEN_MINUTES_BACKEND = """\
    if (beresp.ttl > 0s && bereq.url !~ "^{{ main_json_path }}") { set beresp.ttl = 600s; }
"""

SCENARIOS = [
    Scenario("pub-altered-csv", "CSV publicado con los votos de un partido alterados (mismo tamaño)",
             "CSV served with one party's votes altered (same size)",
             expect={"I.6": "FAIL"}, family="publication", mutation=_alter_vote),
    Scenario("pub-csv-corte-line", "La línea de corte de un CSV dice otra hora que main.json (archivo editado)",
             "A CSV's corte line says another time than main.json (an edited file)",
             expect={"I.6": "FAIL", "I.9": "FAIL"}, family="publication", mutation=_corte_line_earlier),
    Scenario("pub-missing-acta", "Falta la imagen de un acta", "One acta image missing",
             expect={"I.4": "FAIL", "I.6": "FAIL"}, family="publication", mutation=_drop_acta),
    Scenario("pub-missing-asset", "La página pide assets/app.js y el sitio responde 404",
             "The page loads assets/app.js and the site answers 404",
             expect={"I.4": "FAIL", "I.6": "FAIL"}, family="publication", mutation=_drop_asset),
    Scenario("pub-stale-one", "Publica el corte anterior (20 min de retraso)",
             "Publishes the previous corte (20 min behind)",
             expect={"I.4": "FAIL"}, family="publication", corte=-1),
    Scenario("pub-page-no-corte", "La portada del sitio no muestra la fecha y hora del corte",
             "The site's landing page does not show the corte's date and time",
             expect={"I.9": "FAIL"}, family="publication", mutation=_landing_without_corte,
             nginx_origin=_origin_with_index("portada.html")),
    Scenario("pub-page-js", "La portada muestra el corte con JavaScript a partir de main.json",
             "The landing page shows the corte with JavaScript from main.json",
             family="publication", mutation=_landing_with_js_corte, nginx_origin=_origin_with_index("portada.html")),
    Scenario("pub-drill", "Simulacro de corte: subida por SFTP, purga y contenido fresco",
             "Corte drill: SFTP upload, purge and fresh content",
             family="publication", mutation=_drill_ready, profile=DrillProfile("pub-drill")),
    Scenario("pub-drill-relaxed", "Simulacro de corte correcto, pero el perfil usa una copia de la convocatoria con "
             "un plazo de purga diez veces mayor", "Corte drill met, but the profile uses a copy of the convocatoria "
             "with a purge bound ten times longer", expect={"II.2.b": "WARN"}, family="publication",
             mutation=_drill_ready, profile=DrillProfile("pub-drill-relaxed", convocatoria=RELAXED_CONVOCATORIA)),
    Scenario("pub-purge-ignored", "La CDN ignora las purgas y guarda todo 10 minutos",
             "The CDN ignores purges and keeps everything 10 minutes",
             expect={"II.2.b": "FAIL"}, family="publication", mutation=_drill_ready,
             vcl_recv=IGNORE_PURGE_RECV, vcl_backend_response=TEN_MINUTES_BACKEND,
             profile=DrillProfile("pub-purge-ignored")),
    Scenario("pub-upload-wrong-folder", "La carpeta de carga SFTP no es la que publica el sitio",
             "The SFTP upload folder is not the one the site publishes",
             expect={"I.4": "FAIL"}, family="publication",
             mutation=lambda root, ctx: _drill_ready(root, ctx, incoming=True),
             profile=DrillProfile("pub-upload-wrong-folder", incoming=True)),
]
