"""II.2.d.https: content served over HTTPS, judged from a TLS scan and two plain requests. Pure rules.

* certificate: the chain validates (sslyze's stores or the profile's ``ca_bundle``), the name matches
  (RFC 6125: SAN DNS names, a wildcard only as the whole leftmost label), and it is valid from now
  through the end of the publication window (``publication.end`` + ``hold_after_close_h``); WARN when it
  expires within ``tls.expiry_warn_days`` after it. When the window is over, validity is judged now.
* protocols: every version below ``tls.min_version`` refused, one at or above it accepted. Mozilla
  *intermediate* deviations are advisory notes (sslyze's checker, run here over the probe's inputs).
* vulnerabilities: Heartbleed, ROBOT, CCS injection, insecure renegotiation, TLS compression.
* redirect: plain HTTP sends visitors to HTTPS (WARN when not). hsts: HSTS present (WARN when not).
No TLS listener at all is FAIL (measured: nothing to talk TLS to); a timeout is ERROR.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from types import SimpleNamespace
from urllib.parse import urlsplit

from ..convocatoria import Convocatoria
from ..thresholds import uses
from ..probes.http import HttpObservation
from ..probes.https import MozillaInputs, TlsObservation
from ..verdict import CheckResult, Note, Verdict, result

REQ = "II.2.d.https"
ORDER = ("SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3")
VULN_NAMES = {"heartbleed": "Heartbleed", "robot": "ROBOT", "ccs_injection": "OpenSSL CCS injection",
              "insecure_renegotiation": "renegociación insegura / insecure renegotiation",
              "compression": "compresión TLS (CRIME) / TLS compression (CRIME)"}


def window_end(conv: Convocatoria) -> dt.datetime:
    """Last moment difusores must publish: the PREP close plus the hold the call demands."""
    p = conv.publication
    return p.end + dt.timedelta(hours=p.hold_after_close_h)


def hostname_matches(host: str, names: tuple[str, ...] | list[str]) -> bool:
    """RFC 6125 matching of ``host`` against SAN DNS names (case-insensitive, leftmost-label wildcard)."""
    h = host.lower().rstrip(".")
    for n in names:
        n = n.lower().rstrip(".")
        if n == h:
            return True
        if n.startswith("*.") and "*" not in n[2:]:
            rest = n[2:]
            head, _, tail = h.partition(".")
            if head and tail == rest and rest.count(".") >= 1:
                return True
    return False


def _parse(ts: str) -> dt.datetime:
    d = dt.datetime.fromisoformat(ts)
    return d if d.tzinfo else d.replace(tzinfo=dt.timezone.utc)


def _no_listener(obs: TlsObservation, check: str) -> CheckResult | None:
    where = f"{obs.host}:{obs.port}" + (f" ({obs.address})" if obs.address else "")
    ev = {"endpoint": where, "listener": obs.listener, "error": obs.connect_error}
    if obs.listener in ("refused", "not-tls"):
        why = ("nada escucha en ese puerto" if obs.listener == "refused" else "el puerto no acepta un saludo TLS")
        why_en = ("nothing listens on that port" if obs.listener == "refused" else "the port accepts no TLS handshake")
        return result(REQ, check, Verdict.FAIL, f"Sin HTTPS en {where}: {why}.", f"No HTTPS at {where}: {why_en}.", **ev)
    if obs.listener == "timeout":   # accepts TCP, no TLS answer in time (probes.https bounds the scan)
        return result(REQ, check, Verdict.ERROR,
                      f"No se pudo escanear TLS en {where}: acepta la conexión pero no responde a tiempo.",
                      f"Could not scan TLS at {where}: it accepts the connection but does not answer in time "
                      f"({obs.connect_error}).", **ev)
    if obs.listener != "tls":
        return result(REQ, check, Verdict.ERROR, f"No se pudo escanear TLS en {where}: {obs.connect_error}.",
                      f"Could not scan TLS at {where}: {obs.connect_error}.", **ev)
    return None


def certificate(obs: TlsObservation, check: str = "https_certificate") -> CheckResult:
    """The chain is trusted and names the host."""
    early = _no_listener(obs, check)
    if early:
        return early
    ev = {"endpoint": f"{obs.host}:{obs.port}", "address": obs.address,
          "chain": [c.to_evidence() for c in obs.chain],
          "trust": [{"store": t.store, "ok": t.ok, "error": t.error} for t in obs.trust],
          "custom_ca_file": obs.custom_ca}
    leaf = obs.leaf
    if leaf is None:
        return result(REQ, check, Verdict.ERROR, "El escaneo no obtuvo el certificado del servidor.",
                      "The scan did not obtain the server's certificate.",
                      scan_errors=dict(obs.scan_errors), **ev)
    matches = hostname_matches(obs.host, leaf.sans)
    ev["hostname_matches"] = matches
    problems_es, problems_en = [], []
    if not matches:
        problems_es.append(f"el certificado es para {', '.join(leaf.sans) or leaf.subject}, no para {obs.host}")
        problems_en.append(f"the certificate is for {', '.join(leaf.sans) or leaf.subject}, not {obs.host}")
    if not obs.trusted:
        now = dt.datetime.fromtimestamp(obs.observed_at, dt.timezone.utc)
        if _parse(leaf.not_after) < now:
            problems_es.append(f"vencido el {leaf.not_after}")
            problems_en.append(f"expired on {leaf.not_after}")
        elif _parse(leaf.not_before) > now:
            problems_es.append(f"aún no es válido (desde {leaf.not_before})")
            problems_en.append(f"not valid yet (from {leaf.not_before})")
        if leaf.self_signed and len(obs.chain) == 1:
            problems_es.append("autofirmado y no está en el paquete de confianza (ca_bundle)")
            problems_en.append("self-signed and not in the trust bundle (ca_bundle)")
        if matches and not problems_es:
            err = next((t.error for t in obs.trust if t.error), "")
            problems_es.append(f"la cadena no valida contra ningún almacén de confianza ({err})")
            problems_en.append(f"the chain validates against no trust store ({err})")
    if problems_es:
        return result(REQ, check, Verdict.FAIL, "Certificado inválido: " + "; ".join(problems_es) + ".",
                      "Invalid certificate: " + "; ".join(problems_en) + ".", **ev)
    stores = ", ".join(t.store for t in obs.trust if t.ok)
    return result(REQ, check, Verdict.PASS,
                  f"Cadena de confianza válida ({stores}) y el nombre {obs.host} coincide ({leaf.issuer}).",
                  f"Trusted chain ({stores}) and the name {obs.host} matches ({leaf.issuer}).", **ev)


@uses("tls_expiry_warn_days", "publication_end", "hold_after_close_h")
def validity(obs: TlsObservation, conv: Convocatoria, now: dt.datetime | None = None,
             check: str = "https_certificate_validity") -> CheckResult:
    """The leaf is valid from now through the end of the publication window (+ warn margin)."""
    early = _no_listener(obs, check)
    if early:
        return early
    leaf = obs.leaf
    if leaf is None:
        return result(REQ, check, Verdict.ERROR, "El escaneo no obtuvo el certificado del servidor.",
                      "The scan did not obtain the server's certificate.", scan_errors=dict(obs.scan_errors))
    now = now or dt.datetime.fromtimestamp(obs.observed_at, dt.timezone.utc)
    start, end = conv.publication.start, window_end(conv)
    warn_days = conv.tls.expiry_warn_days
    nb, na = _parse(leaf.not_before), _parse(leaf.not_after)
    ev = {"not_before": leaf.not_before, "not_after": leaf.not_after, "now": now.isoformat(),
          "publication_start": start.isoformat(), "publication_end": end.isoformat(),
          "expiry_warn_days": warn_days, "subject": leaf.subject}
    notes: list[Note] = []
    if now > end:
        notes.append(Note("info", f"La ventana de publicación ({start.isoformat()} – {end.isoformat()}) ya pasó: "
                          "se juzga la vigencia a hoy.", f"The publication window ({start.isoformat()} – "
                          f"{end.isoformat()}) is over: validity is judged as of now."))
        must_until, warn_until = now, now + dt.timedelta(days=warn_days)
    else:
        must_until, warn_until = end, end + dt.timedelta(days=warn_days)
    must_from = now
    days_left = (na - now).total_seconds() / 86400
    ev["days_left"] = round(days_left, 1)
    if na < now:
        return result(REQ, check, Verdict.FAIL, f"Certificado vencido el {leaf.not_after}.",
                      f"Certificate expired on {leaf.not_after}.", notes, **ev)
    if nb > must_from:
        return result(REQ, check, Verdict.FAIL, f"Certificado aún no válido (desde {leaf.not_before}).",
                      f"Certificate not valid yet (from {leaf.not_before}).", notes, **ev)
    if na < must_until:
        return result(REQ, check, Verdict.FAIL,
                      f"El certificado vence el {leaf.not_after}, dentro de la ventana de publicación "
                      f"(termina {end.isoformat()}).",
                      f"The certificate expires on {leaf.not_after}, inside the publication window "
                      f"(ends {end.isoformat()}).", notes, **ev)
    if na < warn_until:
        return result(REQ, check, Verdict.WARN,
                      f"El certificado vence el {leaf.not_after}, menos de {warn_days} días después de "
                      f"{'hoy' if now > end else 'la ventana de publicación'}.",
                      f"The certificate expires on {leaf.not_after}, less than {warn_days} days after "
                      f"{'today' if now > end else 'the publication window'}.", notes, **ev)
    return result(REQ, check, Verdict.PASS,
                  f"Certificado vigente hasta {leaf.not_after}, cubre la ventana de publicación y {warn_days} días más.",
                  f"Certificate valid until {leaf.not_after}, covering the publication window and {warn_days} "
                  "more days.", notes, **ev)


def _version_key(label: str) -> int:
    return ORDER.index(label)


def _min_label(conv: Convocatoria) -> str:
    return f"TLS {conv.tls.min_version}"


@uses("tls_min_version")
def protocols(obs: TlsObservation, conv: Convocatoria, check: str = "https_protocols") -> CheckResult:
    """Versions below the convocatoria's minimum refused, at least one at or above it offered."""
    early = _no_listener(obs, check)
    if early:
        return early
    minimum = _min_label(conv)
    if minimum not in ORDER:
        return result(REQ, check, Verdict.ERROR, f"Versión mínima desconocida en la convocatoria: {minimum}.",
                      f"Unknown minimum version in the convocatoria: {minimum}.")
    k = _version_key(minimum)
    old = [p for p in ORDER if _version_key(p) < k]
    new = [p for p in ORDER if _version_key(p) >= k]
    accepted_old = [p for p in old if obs.protocols.get(p)]
    unknown = [p for p in ORDER if obs.protocols.get(p) is None]
    offered_new = [p for p in new if obs.protocols.get(p)]
    ev = {"protocols": {p: obs.protocols.get(p) for p in ORDER}, "min_version": minimum,
          "legacy_ciphers_accepted": {k2: list(v) for k2, v in obs.weak_ciphers.items()}}
    if obs.refused_in_one_handshake:
        ev["refused_in_one_handshake"] = list(obs.refused_in_one_handshake)
    notes = mozilla_notes(obs)
    if accepted_old:
        return result(REQ, check, Verdict.FAIL,
                      f"El servidor acepta protocolos obsoletos: {', '.join(accepted_old)} (mínimo {minimum}).",
                      f"The server accepts obsolete protocols: {', '.join(accepted_old)} (minimum {minimum}).",
                      notes, **ev)
    if not offered_new and not [p for p in new if p in unknown]:
        return result(REQ, check, Verdict.FAIL, f"El servidor no ofrece {minimum} ni superior.",
                      f"The server offers neither {minimum} nor newer.", notes, **ev)
    if unknown:
        return result(REQ, check, Verdict.ERROR,
                      f"No se pudo determinar el soporte de {', '.join(unknown)}.",
                      f"Support for {', '.join(unknown)} could not be determined.", notes,
                      scan_errors=dict(obs.scan_errors), **ev)
    return result(REQ, check, Verdict.PASS,
                  f"Solo {', '.join(offered_new)}; {', '.join(old)} rechazados.",
                  f"Only {', '.join(offered_new)}; {', '.join(old)} refused.", notes, **ev)


@functools.lru_cache(maxsize=1)
def _mozilla_intermediate():
    """Mozilla's *intermediate* configuration as sslyze ships it (its maintained copy of the policy)."""
    from sslyze.mozilla_tls_profile.tls_config_checker import MozillaTlsConfiguration, TlsConfigurationEnum
    return MozillaTlsConfiguration.get(TlsConfigurationEnum.MOZILLA_INTERMEDIATE)


def _scan_result_view(m: MozillaInputs):
    """The ``ServerScanResult`` shape sslyze's checker reads, rebuilt from the probe's plain inputs."""
    from cryptography import x509
    from sslyze import ScanCommandAttemptStatusEnum as Status, ServerScanStatusEnum
    from sslyze.mozilla_tls_profile.tls_config_checker import SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER as NEEDED

    def attempt(result) -> SimpleNamespace:
        return SimpleNamespace(status=Status.COMPLETED if result is not None else Status.ERROR, result=result)
    cert_info = None
    if m.certificate_info:
        cert_info = SimpleNamespace(certificate_deployments=[
            SimpleNamespace(received_certificate_chain=[x509.load_der_x509_certificate(der)],
                            verified_certificate_chain=[der] if ok else None)
            for der, ok in zip(m.leaves_der, m.verified)])
    commands = {c.value: attempt(m.results.get(c.value)) for c in NEEDED if c.value != "certificate_info"}
    return SimpleNamespace(scan_status=ServerScanStatusEnum.COMPLETED,
                           scan_result=SimpleNamespace(certificate_info=attempt(cert_info), **commands))


def mozilla_check(m: MozillaInputs | None) -> tuple[tuple[tuple[str, str], ...] | None, str | None]:
    """(deviations from Mozilla's *intermediate* profile, why it could not be compared): sslyze's own
    checker over what the scan observed. ``((), None)``: compliant; ``(None, None)``: not scanned for it."""
    if m is None:
        return None, None
    from sslyze.mozilla_tls_profile.tls_config_checker import (ServerNotCompliantWithTlsConfiguration,
                                                               check_server_against_tls_configuration)
    try:
        check_server_against_tls_configuration(_scan_result_view(m), _mozilla_intermediate())
        return (), None
    except ServerNotCompliantWithTlsConfiguration as exc:
        return tuple(sorted((str(k), str(v)) for k, v in exc.issues.items())), None
    except Exception as exc:  # noqa: BLE001 - advisory only (ServerScanResultIncomplete too): never fatal
        return None, f"{type(exc).__name__}: {exc}"[:300]


def mozilla_notes(obs: TlsObservation) -> list[Note]:
    """Mozilla intermediate deviations, as advisory notes (never change the verdict)."""
    issues, error = mozilla_check(obs.mozilla)
    if issues is None:
        if error:
            return [Note("info", f"No se comparó con el perfil Mozilla intermedio: {error}",
                         f"Not compared with Mozilla's intermediate profile: {error}")]
        return []
    if not issues:
        return [Note("info", "Cumple el perfil Mozilla «intermediate».", "Meets Mozilla's 'intermediate' profile.")]
    return [Note("warn", *_mozilla_issue_texts(k, v)) for k, v in issues]


_MOZ_WHAT = {"TLS curves": ("curvas TLS", "TLS curves"), "TLS versions": ("versiones de TLS", "TLS versions"),
             "TLS 1.3 cipher suites": ("suites de cifrado de TLS 1.3", "TLS 1.3 cipher suites"),
             "Cipher suites": ("suites de cifrado", "cipher suites")}
_MOZ_VULN_ES = {"tls_vulnerability_compression": "el servidor es vulnerable a ataques por compresión TLS",
                "tls_vulnerability_ccs_injection": "el servidor es vulnerable a la inyección CCS de OpenSSL",
                "tls_vulnerability_fallback_scsv": "el servidor no admite TLS_FALLBACK_SCSV (degradación de versión)",
                "tls_vulnerability_heartbleed": "el servidor es vulnerable a Heartbleed de OpenSSL",
                "tls_vulnerability_robot": "el servidor es vulnerable al ataque ROBOT",
                "tls_vulnerability_renegotiation": "el servidor es vulnerable a la renegociación insegura",
                "tls_vulnerability_extended_master_secret": "el servidor no admite Extended Master Secret"}


def _mozilla_issue_texts(key: str, text: str) -> tuple[str, str]:
    """sslyze's Mozilla checker writes English sentences with Python sets in them: a reader gets the
    names as a list, in the report's language."""
    import re as _re
    m = _re.match(r"^(TLS curves|TLS versions|TLS 1\.3 cipher suites|Cipher suites) \{(.*)\} are supported, "
                  r"but should be rejected\.?$", text or "")
    if m:
        names = ", ".join(sorted(n.strip().strip("'\"") for n in m.group(2).split(",") if n.strip()))
        what_es, what_en = _MOZ_WHAT[m.group(1)]
        return (f"Perfil Mozilla intermedio: {what_es} aceptadas que el perfil rechaza: {names}.",
                f"Mozilla intermediate: {what_en} supported that the profile rejects: {names}.")
    m = _re.match(r"^(ECDH|DH) parameter size is (\d+), should be superior or equal to (\d+)\.?$", text or "")
    if m:
        return (f"Perfil Mozilla intermedio: parámetro {m.group(1)} de {m.group(2)} bits; se esperan al menos "
                f"{m.group(3)}.", f"Mozilla intermediate: {m.group(1)} parameter of {m.group(2)} bits; at least "
                f"{m.group(3)} expected.")
    if key in _MOZ_VULN_ES:
        return f"Perfil Mozilla intermedio: {_MOZ_VULN_ES[key]}.", f"Mozilla intermediate — {key}: {text}"
    return (f"Perfil Mozilla intermedio: desviación «{key}» (detalle en la evidencia).",
            f"Mozilla intermediate — {key}: {text}")


def vulnerabilities(obs: TlsObservation, check: str = "https_vulnerabilities") -> CheckResult:
    """Known TLS vulnerabilities absent; a test that could not run is ERROR, never PASS."""
    early = _no_listener(obs, check)
    if early:
        return early
    ev = {"vulnerabilities": dict(obs.vulnerabilities), "details": dict(obs.details)}
    vuln = [VULN_NAMES.get(k, k) for k, v in obs.vulnerabilities.items() if v is True]
    unknown = [k for k, v in obs.vulnerabilities.items() if v is None]
    notes = []
    if "robot" in unknown and "UNKNOWN" in str(obs.details.get("robot_result", "")):
        unknown.remove("robot")
        notes.append(Note("warn", "ROBOT: resultados inconsistentes (servidor inestable o balanceado).",
                          "ROBOT: inconsistent results (unstable or load-balanced server)."))
    if vuln:
        return result(REQ, check, Verdict.FAIL, f"Vulnerabilidades TLS presentes: {', '.join(vuln)}.",
                      f"TLS vulnerabilities present: {', '.join(vuln)}.", notes, **ev)
    if unknown:
        return result(REQ, check, Verdict.ERROR, f"No se pudieron probar: {', '.join(unknown)}.",
                      f"Could not be tested: {', '.join(unknown)}.", notes,
                      scan_errors=dict(obs.scan_errors), **ev)
    return result(REQ, check, Verdict.PASS,
                  "Sin Heartbleed, ROBOT, inyección CCS, renegociación insegura ni compresión TLS.",
                  "No Heartbleed, ROBOT, CCS injection, insecure renegotiation nor TLS compression.", notes, **ev)


def redirect(obs: HttpObservation, https_url: str, check: str = "https_redirect") -> CheckResult:
    """Plain HTTP answers with a redirect to HTTPS on the same host (WARN otherwise: met, with a risk)."""
    ev = {"response": obs.to_evidence(), "https_url": https_url}
    if obs.status is None:
        if obs.error_kind in ("connect",):
            return result(REQ, check, Verdict.WARN,
                          f"HTTP no se ofrece ({obs.url}: {obs.error}); quien escriba http:// no llega al sitio.",
                          f"HTTP is not offered ({obs.url}: {obs.error}); visitors typing http:// do not reach "
                          "the site.", **ev)
        return result(REQ, check, Verdict.ERROR, f"Sin respuesta de {obs.url}: {obs.error}.",
                      f"No response from {obs.url}: {obs.error}.", **ev)
    loc = obs.get("location") or ""
    lp, hp = urlsplit(loc), urlsplit(https_url)
    if obs.status in (301, 302, 303, 307, 308) and lp.scheme == "https":
        if (lp.hostname or "").lower() != (hp.hostname or "").lower():
            return result(REQ, check, Verdict.WARN,
                          f"HTTP redirige a HTTPS pero a otro sitio: {loc}.",
                          f"HTTP redirects to HTTPS but to another host: {loc}.", **ev)
        notes = [] if obs.status in (301, 308) else [
            Note("info", f"Redirección temporal ({obs.status}); una permanente (301/308) es preferible.",
                 f"Temporary redirect ({obs.status}); a permanent one (301/308) is preferable.")]
        return result(REQ, check, Verdict.PASS, f"HTTP redirige a HTTPS ({obs.status} → {loc}).",
                      f"HTTP redirects to HTTPS ({obs.status} → {loc}).", notes, **ev)
    return result(REQ, check, Verdict.WARN,
                  f"HTTP no redirige a HTTPS ({obs.url} respondió {obs.status}"
                  f"{' → ' + loc if loc else ''}).",
                  f"HTTP does not redirect to HTTPS ({obs.url} answered {obs.status}{' → ' + loc if loc else ''}).",
                  **ev)


def hsts(obs: HttpObservation | None, check: str = "https_hsts") -> CheckResult:
    """Strict-Transport-Security with max-age > 0 on the HTTPS root (WARN when missing)."""
    if obs is None:
        return result(REQ, check, Verdict.SKIP, "No hay HTTPS que evaluar (ver https_certificate).",
                      "No HTTPS to evaluate (see https_certificate).")
    ev = {"response": obs.to_evidence()}
    if obs.status is None:
        return result(REQ, check, Verdict.ERROR, f"Sin respuesta HTTPS de {obs.url}: {obs.error}.",
                      f"No HTTPS response from {obs.url}: {obs.error}.", **ev)
    lines = obs.raw_lines(("strict-transport-security",))
    ev["hsts_lines"] = lines
    value = obs.getlist("strict-transport-security")
    if not value:
        return result(REQ, check, Verdict.WARN, "Falta Strict-Transport-Security (HSTS).",
                      "Strict-Transport-Security (HSTS) is missing.", **ev)
    m = re.search(r"max-age\s*=\s*\"?(\d+)", value[0], re.I)
    age = int(m.group(1)) if m else 0
    ev["max_age_s"] = age
    if age <= 0:
        return result(REQ, check, Verdict.WARN, f"HSTS sin max-age positivo: «{value[0]}».",
                      f"HSTS without a positive max-age: '{value[0]}'.", **ev)
    notes = [] if age >= 15552000 else [Note("info", f"max-age={age} s es menor a 180 días.",
                                             f"max-age={age} s is below 180 days.")]
    return result(REQ, check, Verdict.PASS, f"HSTS presente: «{value[0]}».", f"HSTS present: '{value[0]}'.",
                  notes, **ev)
