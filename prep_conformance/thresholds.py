"""Which threshold a verdict used, where it came from, and whether the difusor loosened it.

The convocatoria is the institute's; the profile is the difusor's. A profile may run a check with
other numbers (``load.users``, ``load.p95_ms``, or a convocatoria file of its own that keeps the
institute's id), but a criterion looser than the institute's never gives a clean PASS: the verdict is
at best WARN, and its summary says "cumple con umbrales relajados por el perfil: …".

Every rule that uses a threshold records it in ONE shape (rendered by the reports)::

    evidence["thresholds"] = [{"name": "sftp_upload_mb_s", "value": 40, "unit": "MB/s",
                               "key": "thresholds.sftp_upload_mb_s", "section": "II.1.d",
                               "source": "convocatoria" | "perfil", "convocatoria_value": 40,
                               "profile_key": None | "load.p95_ms", "relaxed": False}]

The institute's value (``convocatoria_value``) is the bundled convocatoria of the same ``id`` when
there is one (a profile cannot make its own copy the reference), else the convocatoria file itself.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from .verdict import CheckResult, Verdict


@dataclass(frozen=True)
class Spec:
    """How a threshold reads and compares. ``stricter``: ``higher`` (a minimum: less is looser),
    ``lower`` (a maximum: more is looser), ``equal`` (a literal: any change loosens), ``none``
    (recorded, never relaxed: how the measurement runs, not what passes)."""

    key: str
    unit: str
    section: str
    stricter: str
    label_es: str
    label_en: str


SPECS: dict[str, Spec] = {s_name: s for s_name, s in {
    "disk_free_gb": Spec("thresholds.disk_free_gb", "GB", "II.1.c", "higher", "disco libre", "free disk"),
    "sftp_upload_mb_s": Spec("thresholds.sftp_upload_mb_s", "MB/s", "II.1.d", "higher", "carga SFTP",
                             "SFTP upload"),
    "availability": Spec("thresholds.availability", "", "II.2.e", "higher", "disponibilidad", "availability"),
    "availability_period_days": Spec("thresholds.availability_period_days", "días", "II.2.e", "higher",
                                     "periodo de disponibilidad", "availability period"),
    "cache_control": Spec("main_json.cache_control", "", "II.1.e", "equal", "Cache-Control exigido",
                          "required Cache-Control"),
    "main_json_path": Spec("main_json.path", "", "II.1.e", "equal", "ruta de main.json", "main.json path"),
    "max_lag_cortes": Spec("freshness.max_lag_cortes", "cortes", "I.4", "lower", "retraso máximo en cortes",
                           "maximum lag in cortes"),
    "max_lag_min": Spec("freshness.max_lag_min", "min", "I.9", "lower", "retraso máximo del corte",
                        "maximum corte lag"),
    "fresh_within_s": Spec("purge.fresh_within_s", "s", "II.2.b", "lower", "plazo de purga", "purge bound"),
    "memoria_deadline": Spec("calendar.memoria_deadline", "", "II.4", "lower", "fecha límite de la memoria técnica",
                             "memoria técnica deadline"),
    "tls_min_version": Spec("tls.min_version", "", "II.2.d.https", "higher", "versión mínima de TLS",
                            "minimum TLS version"),
    "tls_expiry_warn_days": Spec("tls.expiry_warn_days", "días", "II.2.d.https", "higher",
                                 "margen de vigencia del certificado", "certificate validity margin"),
    "load_users": Spec("load.users", "usuarios", "II.2.a", "higher", "carga", "load"),
    "load_duration_s": Spec("load.duration_s", "s", "II.2.a", "higher", "duración", "duration"),
    "load_p95_ms": Spec("load.p95_ms", "ms", "II.2.a", "lower", "p95", "p95"),
    "load_p99_ms": Spec("load.p99_ms", "ms", "II.2.a", "lower", "p99", "p99"),
    "load_max_error_rate": Spec("load.max_error_rate", "", "II.2.a", "lower", "tasa de error máxima",
                                "maximum error rate"),
    "load_min_served_ratio": Spec("load.min_served_ratio", "", "II.2.a", "higher",
                                  "fracción servida mínima", "minimum served fraction"),
    "load_min_rps": Spec("load.min_rps", "peticiones/s", "II.2.a", "higher", "mínimo de peticiones/s",
                         "minimum requests/s"),
    "publication_end": Spec("publication.end", "", "II.2.d.https", "none", "fin de la publicación",
                            "end of publication"),
    "hold_after_close_h": Spec("publication.hold_after_close_h", "h", "II.2.d.https", "higher",
                               "publicación tras el cierre", "publication after the close"),
    "ddos_burst_requests": Spec("ddos.burst_requests", "peticiones", "II.2.d.ddos", "none",
                                "ráfaga", "burst"),
    "ddos_burst_concurrency": Spec("ddos.burst_concurrency", "conexiones", "II.2.d.ddos", "none",
                                   "concurrencia de la ráfaga", "burst concurrency"),
}.items()}

UNITS_EN = {"días": "days", "usuarios": "users", "peticiones/s": "requests/s", "peticiones": "requests",
            "conexiones": "connections"}
_UNSET = object()


def _get(obj: Any, key: str) -> Any:
    for part in key.split("."):
        if obj is None:
            return None
        obj = obj.get(part) if isinstance(obj, Mapping) else getattr(obj, part, None)
    return obj


@functools.lru_cache(maxsize=16)
def _bundled(conv_id: str):
    from .convocatoria import bundled_ids, load_convocatoria
    try:
        return load_convocatoria(conv_id) if conv_id in bundled_ids() else None
    except Exception:  # noqa: BLE001 - a broken bundled file is the packager's problem, not a verdict's
        return None


_PINNED: dict[str, Any] = {}


def pin_reference(conv: Any | None) -> None:
    """The operator's convocatoria (``--convocatoria ID|FILE``) as the institute's reference for every
    profile, whatever file a profile names; None unpins."""
    _PINNED.clear()
    if conv is not None:
        _PINNED["conv"] = conv


def reference_of(conv: Any) -> Any:
    """The institute's convocatoria for ``conv``: the pinned one (``pin_reference``), else the bundled one
    of the same id, else ``conv`` itself."""
    if "conv" in _PINNED:
        return _PINNED["conv"]
    cid = getattr(conv, "id", None)
    return (_bundled(cid) if isinstance(cid, str) else None) or conv


def _version(v: Any) -> tuple:
    try:
        return tuple(int(x) for x in str(v).split("."))
    except ValueError:
        return (str(v),)


def is_looser(name: str, value: Any, reference: Any) -> bool:
    """Is ``value`` a looser pass criterion than the institute's ``reference``?"""
    spec = SPECS[name]
    if value is None or reference is None or spec.stricter == "none":
        return False
    if spec.stricter == "equal":
        return str(value).strip().lower() != str(reference).strip().lower()
    if name == "tls_min_version":
        return _version(value) < _version(reference)
    try:
        v, r = float(value), float(reference)
    except (TypeError, ValueError):
        return value != reference
    return v < r if spec.stricter == "higher" else v > r


def threshold(conv: Any, name: str, value: Any = _UNSET, profile_key: str | None = None) -> dict[str, Any]:
    """One entry of ``evidence["thresholds"]``.

    ``conv``: the convocatoria the run loaded. ``value``: the value the rule actually used when it is not
    ``conv``'s own (a profile override: say which key with ``profile_key``). The source is ``perfil``
    when the value is the profile's (an override, or the profile's own convocatoria file differing from
    the institute's), else ``convocatoria``.
    """
    spec = SPECS[name]
    loaded = _get(conv, spec.key)
    used = loaded if value is _UNSET else value
    institute = _get(reference_of(conv), spec.key)
    differs = _plain(used) != _plain(institute)
    if profile_key is None and differs and institute is not None:
        profile_key = "convocatoria"          # the profile named a convocatoria file of its own
    from_profile = profile_key is not None and differs
    return {"name": name, "value": _plain(used), "unit": spec.unit, "key": spec.key, "section": spec.section,
            "source": "perfil" if from_profile else "convocatoria", "convocatoria_value": _plain(institute),
            "profile_key": profile_key if from_profile else None,
            "relaxed": bool(from_profile and is_looser(name, used, institute))}


def _plain(v: Any) -> Any:
    """JSON-ready: 40.0 -> 40, datetimes and dates as ISO text, tuples as lists."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, tuple):
        return list(v)
    return v


def _fmt(v: Any, unit: str, lang: str) -> str:
    if isinstance(v, float):
        v = f"{v:g}"
    u = UNITS_EN.get(unit, unit) if lang == "en" else unit
    return f"{v} {u}".strip()


def relaxed_text(entries: Iterable[Mapping[str, Any]]) -> tuple[str, str] | None:
    """``("p95 1500 ms (convocatoria: 1000 ms); …", English)`` for the relaxed entries, or None."""
    es, en = [], []
    for e in entries:
        if not e.get("relaxed"):
            continue
        spec = SPECS.get(e["name"])
        lab_es, lab_en = (spec.label_es, spec.label_en) if spec else (e["name"], e["name"])
        es.append(f"{lab_es} {_fmt(e['value'], e['unit'], 'es')} (convocatoria: "
                  f"{_fmt(e['convocatoria_value'], e['unit'], 'es')}; {e.get('profile_key') or 'perfil'})")
        en.append(f"{lab_en} {_fmt(e['value'], e['unit'], 'en')} (convocatoria: "
                  f"{_fmt(e['convocatoria_value'], e['unit'], 'en')}; {e.get('profile_key') or 'profile'})")
    if not es:
        return None
    return "; ".join(es), "; ".join(en)


def apply(res: CheckResult, entries: Iterable[Mapping[str, Any]]) -> CheckResult:
    """``res`` with ``evidence["thresholds"]`` (merged by name with any already there); a PASS under a
    relaxed threshold becomes WARN and says which, in both languages. Other verdicts keep theirs (a
    FAIL under a looser criterion is a FAIL all the more); their summary names the relaxation too."""
    entries = [dict(e) for e in entries]
    have = {e["name"]: e for e in res.evidence.get("thresholds", []) if isinstance(e, Mapping)}
    for e in entries:
        have[e["name"]] = e
    merged = list(have.values())
    ev = {**res.evidence, "thresholds": merged}
    text = relaxed_text(merged)
    if text is None or res.verdict in (Verdict.SKIP, Verdict.MANUAL):
        return dataclasses.replace(res, evidence=ev)
    ev["relaxed_by_profile"] = True
    es, en = text
    if res.verdict is Verdict.PASS:
        return dataclasses.replace(
            res, verdict=Verdict.WARN, evidence=ev,
            summary=f"{res.summary.rstrip('.')}; cumple con umbrales relajados por el perfil: {es}.",
            summary_en=f"{res.summary_en.rstrip('.')}; met with thresholds relaxed by the profile: {en}.")
    return dataclasses.replace(
        res, evidence=ev, summary=f"{res.summary.rstrip('.')} (umbrales relajados por el perfil: {es}).",
        summary_en=f"{res.summary_en.rstrip('.')} (thresholds relaxed by the profile: {en}).")


def _find_conv(args: tuple, kwargs: Mapping[str, Any]) -> Any:
    from .convocatoria import Convocatoria
    for a in (*args, *kwargs.values()):
        if isinstance(a, Convocatoria):
            return a
    return None


def uses(*names: str) -> Callable:
    """Decorate a rule taking the convocatoria (anywhere in its arguments): its result(s) name these
    thresholds and are at best WARN when the profile loosened one. Works on rules returning a
    ``CheckResult`` or a list of them (then each result gets the thresholds of its own requirement)."""
    def deco(rule):
        @functools.wraps(rule)
        def wrapper(*args, **kwargs):
            out = rule(*args, **kwargs)
            conv = _find_conv(args, kwargs)
            if conv is None:
                return out
            entries = [threshold(conv, n) for n in names]
            if isinstance(out, CheckResult):
                return apply(out, entries)
            if isinstance(out, list):        # several checks: each gets the thresholds of its requirement
                return [apply(r, mine) if isinstance(r, CheckResult) and (mine := [
                    e for e in entries if e["section"] == r.requirement]) else r for r in out]
            return out
        return wrapper
    return deco
