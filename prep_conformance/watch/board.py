"""The live board (``--board-port``): one page a DEOE room keeps on a screen, refreshing itself.

``/`` is the page (a jinja2 template: every difusor a row, worst first, colour plus text), ``/state.json``
the same data for machines. Served from a thread of the watcher on 127.0.0.1 by default; it only reads
the live state, never the network.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..templating import environment
from .incidents import LABELS as KIND_LABELS
from .incidents import fmt_duration, fmt_when

TEXT = {
    "es": {"title": "Noche electoral: difusores oficiales del PREP", "difusor": "Difusor", "state": "Estado",
           "corte": "Corte servido", "lag": "Retraso", "availability": "Disponibilidad", "incident": "Incidente abierto",
           "since": "Último cambio", "latency": "Latencia", "reference": "Corte más reciente del instituto",
           "updated": "Actualizado", "polls": "muestras", "window": "Ventana de publicación", "none": "—",
           "pending": "Sin datos aún", "ok": "En orden", "ago": "hace {d}", "refresh": "Se actualiza cada {s} s",
           "difusores": "difusores", "with_incidents": "con incidente abierto", "threshold": "umbral",
           "tolerance": "tolerancia", "of": "de", "unknown": "desconocido"},
    "en": {"title": "Election night: official PREP difusores", "difusor": "Difusor", "state": "State",
           "corte": "Corte served", "lag": "Lag", "availability": "Availability", "incident": "Open incident",
           "since": "Last change", "latency": "Latency", "reference": "Institute's newest corte",
           "updated": "Updated", "polls": "samples", "window": "Publication window", "none": "—",
           "pending": "No data yet", "ok": "OK", "ago": "{d} ago", "refresh": "Refreshes every {s} s",
           "difusores": "difusores", "with_incidents": "with an open incident", "threshold": "threshold",
           "tolerance": "tolerance", "of": "of", "unknown": "unknown"},
}

_ENV = environment("prep_conformance.watch")


def board_context(snap: dict, lang: str, tz: dt.tzinfo, refresh_s: int) -> dict:
    """The template's data: plain strings and numbers, already in the board's language."""
    T = TEXT[lang]
    idx = 0 if lang == "es" else 1
    now = snap["now"]

    def state_label(state: str) -> str:
        return T.get(state) if state in ("ok", "pending") else KIND_LABELS[state][idx]

    def pct(v):
        if v is None:
            return T["none"]
        s = f"{v * 100:.3f} %"
        return s.replace(".", ",") if lang == "es" else s

    rows = []
    for r in snap["rows"]:
        open_ = r["open"][0] if r["open"] else None
        rows.append({
            "id": r["id"], "name": r["name"], "state": r["state"], "state_label": state_label(r["state"]),
            "secuencia": r["secuencia"], "corte_hora": _hora(r["corte_iso"]),
            "lag": T["none"] if r["lag_s"] is None else fmt_duration(r["lag_s"], lang),
            "late": r["lag_s"] is not None and r["lag_s"] > snap["tolerance_s"],
            "availability": pct(r["availability"]),
            "below": r["availability"] is not None and r["availability"] < snap["threshold"],
            "incident": (open_["summary"][idx] if open_ else ""),
            "more": max(0, len(r["open"]) - 1),
            "since": T["none"] if r["since"] is None else T["ago"].format(d=fmt_duration(now - r["since"], lang)),
            "latency": T["none"] if r["latency_s"] is None else f"{r['latency_s'] * 1000:.0f} ms",
        })
    return {"T": T, "lang": lang, "rows": rows, "refresh_s": refresh_s,
            "updated": fmt_when(now, tz, lang), "ref_secuencia": snap["ref_secuencia"],
            "ref_since": None if snap["ref_published"] is None else fmt_when(snap["ref_published"], tz, lang),
            "window": f"{fmt_when(snap['window'][0], tz, lang, False)} – {fmt_when(snap['window'][1], tz, lang, False)}",
            "polls": snap["polls_total"], "n": len(rows),
            "n_bad": sum(1 for r in snap["rows"] if r["open"]),
            "threshold": pct(snap["threshold"]), "tolerance": fmt_duration(snap["tolerance_s"], lang)}


def _hora(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        d = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{d:%d/%m %H:%M:%S}"


def render_board(snap: dict, lang: str, tz: dt.tzinfo, refresh_s: int) -> str:
    return _ENV.get_template("board.html.j2").render(**board_context(snap, lang, tz, refresh_s))


class BoardServer:
    def __init__(self, httpd: ThreadingHTTPServer):
        self.httpd = httpd
        self.thread = threading.Thread(target=httpd.serve_forever, name="board", daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def shutdown(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve_board(live, addr: str, port: int, lang: str = "es", refresh_s: int | None = None) -> BoardServer:
    tz = live.opts.tz
    refresh = refresh_s or int(min(10, max(1, round(live.opts.interval_s))))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):   # noqa: N802 - http.server's name
            path = self.path.split("?", 1)[0]
            if path == "/":
                body = render_board(live.snapshot(), lang, tz, refresh).encode("utf-8")
                ctype = "text/html; charset=utf-8"
            elif path == "/state.json":
                body = json.dumps(live.snapshot(), ensure_ascii=False, default=str).encode("utf-8")
                ctype = "application/json"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):   # quiet: the watcher's log is for the night, not for page views
            pass

    httpd = ThreadingHTTPServer((addr, port), Handler)
    httpd.daemon_threads = True
    return BoardServer(httpd)
