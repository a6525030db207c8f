"""Memoria scenarios (II.2.c from access logs, II.4 memoria técnica): logs and documents the difusor hands in.

* ``memoria-logs``: the synthetic night (``memoria.synth``, known figures) as its access log, gzip'd like a
  rotation: II.2.c PASS on the figures. Its memoria is this tool's HTML (three parts, conclusions written);
  without the institute's watch db II.4 stays MANUAL.
* ``memoria-incomplete``: its access log is the lab front's own combined log (only the harness's traffic,
  all of it bots by user agent): II.2.c FAIL (no visitor, no page view); its memoria has no analysis and
  conclusions: II.4 FAIL.
"""

from pathlib import Path

from prep_conformance.lab.scenario import Scenario

HAND_MADE = """<!DOCTYPE html><html lang="es"><head><meta charset="utf-8"><title>Memoria</title></head><body>
<h1>Memoria técnica del difusor</h1>
<h2>1. Reporte de incidencias</h2>
<p>El 2 de junio a las 20:18 h el sitio dejó de responder durante siete minutos por falta de disco en el origen;
se amplió el volumen y se agregó una alerta.</p>
<h2>2. Estadísticas de visitas</h2>
<p>Visitantes únicos: 1 234. Páginas más visitadas: inicio, presidencia. Tiempo promedio de permanencia: 3 min.
Geolocalización: México 97 %.</p>
</body></html>
"""


def _files(scenario_id: str, hand_made: bool):
    """Writes the scenario's documents beside the lab's others (``docs/<id>-memoria/``); the front's
    combined log is created empty first (nginx appends to it), so the profile validates before nginx runs."""
    def mutate(docroot: Path, ctx) -> None:
        from prep_conformance.memoria import synth
        d = Path(ctx.state) / "docs" / f"{scenario_id}-memoria"
        d.mkdir(parents=True, exist_ok=True)
        (Path(ctx.state) / "logs" / f"nginx-{scenario_id}-front.combined.log").touch()
        if hand_made:
            (d / "memoria.html").write_text(HAND_MADE, encoding="utf-8")
            return
        log = synth.write_night(d / "access.log.1.gz", gz=True)
        (d / "notas.yaml").write_text("conclusions:\n  patterns: Pico a las 20 h.\n  improvements: Ninguna.\n"
                                      "  conclusions: Sin incidencias que afectaran a los visitantes.\n",
                                      encoding="utf-8")
        from prep_conformance.convocatoria import load_convocatoria
        from prep_conformance.memoria.build import memoria_doc
        from prep_conformance.memoria.incidents import load_notes
        from prep_conformance.memoria.render import write
        from types import SimpleNamespace
        prof = SimpleNamespace(id=scenario_id, name=scenario_id, target_url=f"https://{scenario_id}.lab.prep.example/")
        doc = memoria_doc(prof, load_convocatoria("iem-michoacan-2024"), [log], None, load_notes(d / "notas.yaml"))
        write(doc, d, pdf=False)       # HTML: no PDF engine at lab up (the PDF path is tested on its own)
    return mutate


SCENARIOS = [
    Scenario("memoria-logs", "Entrega bitácoras de acceso con visitantes, páginas y tiempo de permanencia",
             "Hands in access logs with visitors, pages and time on site", family="memoria",
             mutation=_files("memoria-logs", False),
             profile={"analytics": {"access_logs": ["../docs/memoria-logs-memoria/access.log.1.gz"]},
                      "documents": {"memoria": "../docs/memoria-logs-memoria/memoria.html"}}),
    Scenario("memoria-incomplete", "Bitácoras sin visitantes y memoria técnica sin análisis ni conclusiones",
             "Logs with no visitor and a memoria técnica without analysis or conclusions", family="memoria",
             expect={"II.2.c": "FAIL", "II.4": "FAIL"},
             mutation=_files("memoria-incomplete", True),
             profile={"analytics": {"access_logs": ["../logs/nginx-memoria-incomplete-front.combined.log"]},
                      "documents": {"memoria": "../docs/memoria-incomplete-memoria/memoria.html"}}),
]
