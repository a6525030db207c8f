"""II.1.e: ``Cache-Control: no-cache, no-store, must-revalidate`` on ``/json/main.json``. Pure rules.

Normalisation (documented, as httplint/REDbot do): header names compare case-insensitively; several
``Cache-Control`` lines are merged with ``, `` (RFC 9110 §5.3); the value is split into directives at
commas outside quotes; directive names are lowercased and trimmed; order and spacing are free. The
required directives come from the convocatoria (``main_json.cache_control``) and must appear
unqualified (``no-cache="Set-Cookie"`` is a weaker directive). A directive that grants freshness or
reuse (``max-age>0``, ``s-maxage``, ``public``, ``immutable``, ``stale-*``) or a far-future
``Expires`` is FAIL; any other extra directive is WARN. Lint notes never change the verdict.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Sequence
from urllib.parse import urlsplit

from .. import cache_status
from .notes import tls_note
from ..convocatoria import Convocatoria
from ..thresholds import uses
from ..probes.http import HttpObservation
from ..verdict import CheckResult, Note, Verdict, result

REQ = "II.1.e"
CONTRADICTING = ("s-maxage", "public", "immutable", "stale-while-revalidate", "stale-if-error")
EVALUABLE = (200, 203, 206, 304)


@dataclass(frozen=True)
class Directive:
    """One Cache-Control directive. Attributes: name (lowercase), value (unquoted, or None), raw text."""

    name: str
    value: str | None
    raw: str


def split_directives(value: str) -> list[str]:
    """Split at commas outside double quotes (RFC 9110 list syntax), dropping empty members."""
    out, buf, quoted, esc = [], [], False, False
    for ch in value:
        if esc:
            buf.append(ch)
            esc = False
        elif ch == "\\" and quoted:
            buf.append(ch)
            esc = True
        elif ch == '"':
            quoted = not quoted
            buf.append(ch)
        elif ch == "," and not quoted:
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    out.append("".join(buf))
    return [m.strip() for m in out if m.strip()]


def parse_cache_control(value: str | None) -> tuple[Directive, ...]:
    """``"No-Cache, max-age = 0"`` → (Directive('no-cache', None), Directive('max-age', '0'))."""
    if not value:
        return ()
    ds = []
    for member in split_directives(value):
        name, sep, arg = member.partition("=")
        arg = arg.strip()
        if sep and len(arg) >= 2 and arg[0] == arg[-1] == '"':
            arg = re.sub(r"\\(.)", r"\1", arg[1:-1])
        ds.append(Directive(name.strip().lower(), arg if sep else None, member))
    return tuple(ds)


def _delta(v: str | None) -> int | None:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return None


def _http_date(v: str | None) -> dt.datetime | None:
    if not v:
        return None
    try:
        d = parsedate_to_datetime(v.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if d is None:
        return None
    return d if d.tzinfo else d.replace(tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class HeaderJudgement:
    """The header rule's findings for one response (pure data, reused by a monitor)."""

    lines: tuple[str, ...]
    merged: str | None
    directives: tuple[Directive, ...]
    required: tuple[str, ...]
    missing: tuple[str, ...]
    qualified: tuple[str, ...]
    contradicting: tuple[str, ...]
    extra: tuple[str, ...]
    expires: str | None
    expires_future_s: float | None

    @property
    def verdict(self) -> Verdict:
        if self.missing or self.qualified or self.contradicting or (self.expires_future_s or 0) > 0:
            return Verdict.FAIL
        if self.extra:
            return Verdict.WARN
        return Verdict.PASS


def judge_headers(obs: HttpObservation, required_value: str) -> HeaderJudgement:
    """Apply the normalisation and the exact-directives rule to one response's headers."""
    lines = tuple(obs.raw_lines(("cache-control",)))
    merged = obs.get("cache-control")
    ds = parse_cache_control(merged)
    required = tuple(d.name for d in parse_cache_control(required_value))
    names = {d.name for d in ds}
    missing = tuple(r for r in required if r not in names)
    qualified = tuple(d.raw for d in ds if d.name in required and d.value is not None)
    contradicting = []
    extra = []
    for d in ds:
        if d.name in required:
            continue
        if d.name in CONTRADICTING:
            contradicting.append(d.raw)
        elif d.name == "max-age":
            age = _delta(d.value)
            (contradicting if age is None or age > 0 else extra).append(d.raw)
        else:
            extra.append(d.raw)
    expires = obs.get("expires")
    future = None
    if expires is not None:
        exp = _http_date(expires)
        base = _http_date(obs.get("date")) or dt.datetime.fromtimestamp(obs.observed_at, dt.timezone.utc)
        # an unparseable Expires (e.g. "0", "-1") means "already expired" (RFC 9111 §5.3)
        future = (exp - base).total_seconds() if exp is not None else None
    return HeaderJudgement(lines, merged, ds, required, missing, qualified, tuple(contradicting), tuple(extra),
                           expires, future)


def _lint_notes(obs: HttpObservation, j: HeaderJudgement) -> list[Note]:
    """REDbot/httplint-style advisories: shown to the reviewer, never change the verdict."""
    notes: list[Note] = [n for n in (tls_note(obs.tls_unverified),) if n]
    names = [d.name for d in j.directives]
    if "no-store" in names and "no-cache" in names:
        notes.append(Note("info", "no-store junto con no-cache es redundante para las cachés HTTP (httplint); "
                          "la convocatoria exige ambos, así que no cambia el veredicto.",
                          "no-store alongside no-cache is redundant for HTTP caches (httplint); the "
                          "convocatoria demands both, so it does not change the verdict."))
    if len(j.lines) > 1:
        notes.append(Note("info", f"Cache-Control llegó en {len(j.lines)} líneas; se unieron con ', ' "
                          "(RFC 9110 §5.3).", f"Cache-Control came in {len(j.lines)} lines; merged with ', ' "
                          "(RFC 9110 §5.3)."))
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        notes.append(Note("warn", f"Directivas repetidas: {', '.join(dup)}.", f"Repeated directives: {', '.join(dup)}."))
    if j.merged and j.missing == () and not j.qualified:
        canon = ", ".join(j.required)
        if j.merged.strip() != canon:
            notes.append(Note("info", f"El valor difiere del literal «{canon}» solo en mayúsculas, orden o espacios "
                              "(se aceptan).", f"The value differs from the literal '{canon}' only in case, order "
                              "or spacing (accepted)."))
    if obs.get("pragma") and "no-cache" in obs.get("pragma").lower():
        notes.append(Note("info", "Pragma: no-cache es un encabezado HTTP/1.0 obsoleto; Cache-Control es el que cuenta.",
                          "Pragma: no-cache is an obsolete HTTP/1.0 header; Cache-Control is what counts."))
    if j.expires is not None and (j.expires_future_s is None or j.expires_future_s <= 0):
        notes.append(Note("info", f"Expires en el pasado o inválido ({j.expires}): equivale a «ya expirado».",
                          f"Expires in the past or invalid ({j.expires}): means 'already expired'."))
    if obs.status == 200 and not (obs.get("etag") or obs.get("last-modified")):
        notes.append(Note("info", "Sin ETag ni Last-Modified: los clientes no pueden revalidar con 304 y descargan todo.",
                          "No ETag nor Last-Modified: clients cannot revalidate with 304 and download it all."))
    return notes


def _redirects_to_https(obs: HttpObservation) -> bool:
    loc = obs.get("location") or ""
    return urlsplit(obs.url).scheme == "http" and urlsplit(loc).scheme == "https"


@uses("cache_control", "main_json_path")
def evaluate(obs: HttpObservation, conv: Convocatoria, check: str = "main_json_cache_control") -> CheckResult:
    """The header on one response to ``main.json`` (GET, HEAD, conditional; edge or origin)."""
    required = conv.main_json.cache_control
    ev = {"required": required, "response": obs.to_evidence()}
    if obs.status is None:
        return result(REQ, check, Verdict.ERROR,
                      f"Sin respuesta de {obs.url} ({obs.method}): {obs.error}.",
                      f"No response from {obs.url} ({obs.method}): {obs.error}.", **ev)
    if 300 <= obs.status < 400 and obs.status != 304:
        if _redirects_to_https(obs):
            return result(REQ, check, Verdict.SKIP,
                          f"HTTP redirige a HTTPS ({obs.status} → {obs.get('location')}); el encabezado se evalúa en HTTPS.",
                          f"HTTP redirects to HTTPS ({obs.status} → {obs.get('location')}); the header is judged "
                          "over HTTPS.", **ev)
        return result(REQ, check, Verdict.ERROR,
                      f"{obs.url} redirige ({obs.status} → {obs.get('location')}); no se sirve main.json ahí.",
                      f"{obs.url} redirects ({obs.status} → {obs.get('location')}); main.json is not served there.", **ev)
    if obs.status not in EVALUABLE:
        return result(REQ, check, Verdict.ERROR,
                      f"{obs.url} respondió {obs.status} a {obs.method}: no se puede evaluar el encabezado.",
                      f"{obs.url} answered {obs.status} to {obs.method}: the header cannot be evaluated.", **ev)
    j = judge_headers(obs, required)
    ev.update(cache_control_lines=list(j.lines), merged=j.merged,
              directives=[d.raw for d in j.directives], missing=list(j.missing),
              qualified=list(j.qualified), contradicting=list(j.contradicting), extra=list(j.extra))
    if j.expires is not None:
        ev["expires"] = j.expires
    notes = _lint_notes(obs, j)
    where = f"{obs.method} {obs.url} → {obs.status}"
    v = j.verdict
    if v is Verdict.PASS:
        return result(REQ, check, v, f"Cache-Control correcto en {where}: «{j.merged}».",
                      f"Cache-Control correct on {where}: '{j.merged}'.", notes, **ev)
    if v is Verdict.WARN:
        return result(REQ, check, v,
                      f"Cache-Control contiene las tres directivas pero agrega otras: {', '.join(j.extra)} ({where}).",
                      f"Cache-Control holds the three directives but adds others: {', '.join(j.extra)} ({where}).",
                      notes, **ev)
    why_es, why_en = [], []
    if not j.lines:
        why_es.append("no hay encabezado Cache-Control")
        why_en.append("no Cache-Control header")
    elif j.missing:
        why_es.append(f"faltan {', '.join(j.missing)}")
        why_en.append(f"missing {', '.join(j.missing)}")
    if j.qualified:
        why_es.append(f"directivas con argumento (más débiles): {', '.join(j.qualified)}")
        why_en.append(f"directives with an argument (weaker): {', '.join(j.qualified)}")
    if j.contradicting:
        why_es.append(f"directivas que permiten cachear: {', '.join(j.contradicting)}")
        why_en.append(f"directives that allow caching: {', '.join(j.contradicting)}")
    if (j.expires_future_s or 0) > 0:
        why_es.append(f"Expires a futuro ({j.expires}, +{int(j.expires_future_s)} s)")
        why_en.append(f"future Expires ({j.expires}, +{int(j.expires_future_s)} s)")
    got_es = f"«{j.merged}»" if j.merged else "nada"
    got_en = f"'{j.merged}'" if j.merged else "nothing"
    return result(REQ, check, Verdict.FAIL,
                  f"Cache-Control incorrecto en {where}: {'; '.join(why_es)}. Se esperaba «{required}», llegó {got_es}.",
                  f"Wrong Cache-Control on {where}: {'; '.join(why_en)}. Expected '{required}', got {got_en}.",
                  notes, **ev)


# --- a cache that serves main.json anyway -------------------------------------------------------

# The explicit cache-status headers (what ``cache_status`` reads besides X-Varnish and Age).
HIT_HEADERS = cache_status.STATUS_HEADERS


def cache_hits(obs: HttpObservation) -> list[str]:
    """Raw header lines showing this response came from a cache (``cache_status.read``: Age > 0,
    X-Cache HIT, Cache-Status hit ...); empty when it did not."""
    reading = cache_status.read(obs.headers)
    return list(reading.lines) if reading.hit else []


def age_is_the_only_signal(observations: Sequence[HttpObservation]) -> bool:
    """Only ``Age`` can still tell a hit in these responses (``cache_status.needs_age_wait``): it counts
    whole seconds, so the check looks again a second later (X-Cache/Cache-Status need no wait)."""
    return cache_status.needs_age_wait(cache_status.read(o.headers) for o in observations if o.status is not None)


def edge_caching(edge: Sequence[HttpObservation], origin: HttpObservation | None,
                 check: str = "main_json_not_cached[edge]") -> CheckResult:
    """Catch an edge that caches main.json anyway: hit signals, or a body different from the origin's."""
    ok = [o for o in edge if o.status is not None]
    ev = {"edge": [o.to_evidence() for o in edge]}
    if origin is not None:
        ev["origin"] = origin.to_evidence()
    if not ok:
        first = edge[0] if edge else None
        return result(REQ, check, Verdict.ERROR, f"Sin respuesta del borde: {first.error if first else '-'}.",
                      f"No response from the edge: {first.error if first else '-'}.", **ev)
    hits = [h for o in ok for h in cache_hits(o)]
    ev["cache_hit_lines"] = hits
    stale = False
    if origin is not None and origin.status == 200 and origin.body_sha256:
        last = [o for o in ok if o.status == 200 and o.body_sha256]
        if last and last[-1].body_sha256 != origin.body_sha256:
            stale = True
            ev["edge_body_sha256"] = last[-1].body_sha256
            ev["origin_body_sha256"] = origin.body_sha256
    notes = [n for n in {tls_note(o.tls_unverified) for o in ok} if n][:1]
    if hits or stale:
        why_es, why_en = [], []
        if hits:
            why_es.append(f"respuestas servidas desde caché ({'; '.join(sorted(set(hits)))})")
            why_en.append(f"responses served from cache ({'; '.join(sorted(set(hits)))})")
        if stale:
            why_es.append("el borde sirve un cuerpo distinto al del origen (copia vieja)")
            why_en.append("the edge serves a body different from the origin's (stale copy)")
        return result(REQ, check, Verdict.FAIL, "El borde/CDN cachea main.json: " + "; ".join(why_es) + ".",
                      "The edge/CDN caches main.json: " + "; ".join(why_en) + ".", notes, **ev)
    compared = " y coincide con el origen" if origin is not None and origin.status == 200 else ""
    compared_en = " and matches the origin" if origin is not None and origin.status == 200 else ""
    return result(REQ, check, Verdict.PASS,
                  f"main.json no se sirve desde caché en el borde ({len(ok)} solicitudes){compared}.",
                  f"main.json is not served from cache at the edge ({len(ok)} requests){compared_en}.", notes, **ev)


def conditional_headers(obs: HttpObservation) -> dict[str, str]:
    """Validators for a conditional request built from a 200 response (If-None-Match / If-Modified-Since)."""
    h = {}
    if obs.get("etag"):
        h["If-None-Match"] = obs.getlist("etag")[0]
    if obs.get("last-modified"):
        h["If-Modified-Since"] = obs.getlist("last-modified")[0]
    return h


@uses("cache_control", "main_json_path")
def evaluate_conditional(first: HttpObservation, cond: HttpObservation | None, conv: Convocatoria,
                         check: str) -> CheckResult:
    """The 304 (or the 200 when the server ignores validators) must carry the header too."""
    if cond is None:
        return result(REQ, check, Verdict.SKIP,
                      "La respuesta no trae ETag ni Last-Modified: no hay solicitud condicional que probar.",
                      "The response has no ETag nor Last-Modified: no conditional request to try.",
                      first=first.to_evidence())
    r = evaluate(cond, conv, check)
    if cond.status == 200 and r.verdict in (Verdict.PASS, Verdict.WARN):
        r = r.with_(notes=r.notes + (Note("info", "El servidor ignoró los validadores y respondió 200 (no 304).",
                                          "The server ignored the validators and answered 200 (not 304)."),))
    return r

