"""TLS probe: one sslyze scan of (host, port), flattened into a frozen observation with plain data.

sslyze connects to the pinned address (``ServerNetworkLocation(ip_address=...)``) with the real name
in SNI, validates the chain against its bundled stores plus the profile's ``ca_bundle``
(``CertificateInfoExtraArgument(custom_ca_file=...)``) and runs fully offline. Only the scan
commands the rule needs run, plus those sslyze's Mozilla checker reads (``MozillaInputs``: the rule
applies the *intermediate* profile for advisory notes; the probe judges nothing).
Scanned once per (host, port) per run (``observe.Observations.tls_scan``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

PROTOCOL_COMMANDS = {       # label -> sslyze ScanCommand value
    "SSL 2.0": "ssl_2_0_cipher_suites",
    "SSL 3.0": "ssl_3_0_cipher_suites",
    "TLS 1.0": "tls_1_0_cipher_suites",
    "TLS 1.1": "tls_1_1_cipher_suites",
    "TLS 1.2": "tls_1_2_cipher_suites",
    "TLS 1.3": "tls_1_3_cipher_suites",
}


@dataclass(frozen=True)
class CertInfo:
    """One certificate as received. Dates are ISO 8601 UTC strings.

    Attributes: subject, issuer, sans (DNS names), not_before, not_after, serial (hex), sha256 (hex
    fingerprint), self_signed (subject == issuer), key (``RSA 2048`` / ``EC secp256r1``), signature_hash.
    """

    subject: str
    issuer: str
    sans: tuple[str, ...]
    not_before: str
    not_after: str
    serial: str
    sha256: str
    self_signed: bool
    key: str = ""
    signature_hash: str = ""

    def to_evidence(self) -> dict[str, Any]:
        return {"subject": self.subject, "issuer": self.issuer, "sans": list(self.sans),
                "not_before": self.not_before, "not_after": self.not_after, "serial": self.serial,
                "sha256": self.sha256, "self_signed": self.self_signed, "key": self.key,
                "signature_hash": self.signature_hash}


@dataclass(frozen=True)
class TrustResult:
    """Path validation against one trust store. Attributes: store (``Mozilla``, ``Supplied CA file`` ...), ok, error."""

    store: str
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class MozillaInputs:
    """What sslyze's Mozilla checker reads from a ``ServerScanResult``, kept frozen and picklable (the scan
    result itself holds ``cryptography`` certificates and trust stores, which do not pickle).

    Attributes:
        results: scan command (``ScanCommand`` value) -> sslyze's own frozen result, None when the command
            did not complete; every command the checker needs but ``certificate_info``.
        certificate_info: whether ``certificate_info`` completed; then, per certificate deployment,
            ``leaves_der`` its leaf (DER) and ``verified`` whether a verified chain was built.
    """

    results: Mapping[str, Any] = field(default_factory=dict)
    certificate_info: bool = False
    leaves_der: tuple[bytes, ...] = ()
    verified: tuple[bool, ...] = ()


@dataclass(frozen=True)
class TlsObservation:
    """What a TLS scan of one endpoint showed.

    Attributes:
        host, port, address: the name (SNI, verification) and the address scanned.
        listener: ``tls`` (handshake possible), ``refused`` (nothing listening), ``not-tls`` (a listener
            with no usable TLS), ``timeout`` or ``error`` (could not tell).
        connect_error: sslyze's connectivity error, when not ``tls``.
        chain: the received chain, leaf first.
        trust: path validation per trust store (``Supplied CA file`` is the profile's ``ca_bundle``).
        protocols: label -> accepted (True), refused (False) or not determined (None).
        weak_ciphers: for accepted legacy protocols, some accepted suite names (evidence).
        vulnerabilities: name -> vulnerable (True/False) or None when the test failed.
        details: extra facts (ROBOT result, secure renegotiation support ...).
        mozilla: what the Mozilla checker needs (``rules.https.mozilla_check``); None when not scanned for it.
        scan_errors: command -> error reason, for commands that could not run.
        duration_s: scan time.
        refused_in_one_handshake: versions refused when offered every cipher suite they have at once
            (``version_gate``); their suites were then not tried one by one.
    """

    host: str
    port: int
    address: str | None
    listener: str
    connect_error: str | None = None
    chain: tuple[CertInfo, ...] = ()
    trust: tuple[TrustResult, ...] = ()
    custom_ca: bool = False
    protocols: Mapping[str, bool | None] = field(default_factory=dict)
    weak_ciphers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    vulnerabilities: Mapping[str, bool | None] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    mozilla: MozillaInputs | None = None
    scan_errors: Mapping[str, str] = field(default_factory=dict)
    duration_s: float = 0.0
    observed_at: float = field(default_factory=time.time)
    refused_in_one_handshake: tuple[str, ...] = ()

    @property
    def leaf(self) -> CertInfo | None:
        return self.chain[0] if self.chain else None

    @property
    def trusted(self) -> bool:
        return any(t.ok for t in self.trust)


def _name(n) -> str:
    try:
        return n.rfc4514_string()
    except Exception:
        return str(n)


def cert_info(cert) -> CertInfo:
    """Plain data from a ``cryptography`` certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    try:
        sans = tuple(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                     .get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        sans = ()
    pk = cert.public_key()
    if isinstance(pk, rsa.RSAPublicKey):
        key = f"RSA {pk.key_size}"
    elif isinstance(pk, ec.EllipticCurvePublicKey):
        key = f"EC {pk.curve.name}"
    else:
        key = type(pk).__name__
    try:
        sig = cert.signature_hash_algorithm.name if cert.signature_hash_algorithm else ""
    except Exception:
        sig = ""
    nb = cert.not_valid_before_utc
    na = cert.not_valid_after_utc
    return CertInfo(_name(cert.subject), _name(cert.issuer), sans, nb.isoformat(), na.isoformat(),
                    format(cert.serial_number, "x"), cert.fingerprint(hashes.SHA256()).hex(),
                    cert.subject == cert.issuer, key, sig)


SCAN_DEADLINE_S = 45.0


def handshake_answers(host: str, port: int, address: str | None, timeout_s: float) -> str | None:
    """A quick look before the scan: None when the port answers a TLS ClientHello at all (even with an
    alert), else why not (``timeout``: it accepts TCP and sends nothing in ``timeout_s``). sslyze on a
    silent port tries every protocol version in turn, each waiting its own timeout (about a minute)."""
    import socket
    import ssl

    from . import bounded
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)   # no trust store to load (~60 ms): nothing is verified here
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with bounded.watching(bounded.Limits(timeout_s, 0, f"{host}:{port}", timeout_s)) as w:
        try:
            with socket.create_connection((address or host, port), timeout=timeout_s) as raw:
                w.attach(raw)
                with ctx.wrap_socket(raw, server_hostname=host):
                    return None
        except (socket.timeout, TimeoutError):
            return "timeout"
        except (ssl.SSLError, ConnectionError, OSError):
            return "timeout" if w.expired else None      # an answer, if not a good one: sslyze will say


def scan(host: str, port: int, address: str | None = None, ca_bundle: str | None = None,
         timeout_s: float = 5.0, mozilla: bool = True, deadline_s: float = SCAN_DEADLINE_S,
         gate: bool = True) -> TlsObservation:
    """Scan ``host:port`` (connecting to ``address`` when pinned). Never raises for network faults.
    ``gate``: try each version in one handshake first (``version_gate``); False enumerates every suite.

    Bounded: a port that accepts and never answers the handshake is ``timeout`` after ``timeout_s``;
    the whole scan gives up after ``deadline_s`` (sslyze's threads are daemons, left to their own timeouts).
    """
    t0 = time.perf_counter()
    try:
        why = handshake_answers(host, port, address, timeout_s)
    except OSError:
        why = None                                         # refused, unreachable: sslyze reports it
    if why == "timeout":
        return TlsObservation(host, port, address, "timeout",
                              f"ConnectionToServerTimedOut: {host}:{port} accepts TCP but sends no TLS answer "
                              f"in {timeout_s:g} s", duration_s=time.perf_counter() - t0)
    import threading
    box: dict[str, Any] = {}

    def run():
        try:
            box["obs"] = _scan(host, port, address, ca_bundle, timeout_s, mozilla, gate)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            box["exc"] = exc
    th = threading.Thread(target=run, name=f"tls-scan-{host}:{port}", daemon=True)
    th.start()
    th.join(max(1.0, deadline_s - (time.perf_counter() - t0)))
    if th.is_alive():
        return TlsObservation(host, port, address, "timeout",
                              f"ConnectionToServerTimedOut: the TLS scan of {host}:{port} did not finish in "
                              f"{deadline_s:g} s", duration_s=time.perf_counter() - t0)
    if "exc" in box:
        raise box["exc"]
    return box["obs"]


# versions whose support is tried in one handshake before their suites are tried one by one (TLS 1.3 has
# five suites: nothing to save)
GATED = {"SSL 2.0": "SSL_2_0", "SSL 3.0": "SSL_3_0", "TLS 1.0": "TLS_1_0", "TLS 1.1": "TLS_1_1", "TLS 1.2": "TLS_1_2"}


def version_gate(location, config) -> dict[str, bool | None]:
    """Per version up to TLS 1.2, whether the server accepts a handshake offering every suite of it:
    True (accepted), False (refused), None (could not tell: a connection error, not a TLS refusal).

    sslyze tries each of a version's ~100 suites in its own handshake, even for a version the server has
    switched off (a refusal each: ~370 of a modern server's ~580 handshakes). Only a False here skips that
    enumeration. It is sslyze's own version test (its connectivity check's: the default suites, then all
    but PSK/SRP, for F5 devices that choke on long ClientHellos), the way testssl.sh tests protocols
    before ciphers; run for the five versions at once, so a distant server costs one round trip more."""
    from concurrent.futures import ThreadPoolExecutor

    from sslyze import TlsVersionEnum
    from sslyze.server_connectivity import _detect_support_for_tls_1_2_or_below as detect
    from sslyze.server_connectivity import _TlsVersionNotSupported as NotSupported

    def one(label: str) -> bool | None:
        try:
            detect(location, config, TlsVersionEnum[GATED[label]])
            return True
        except NotSupported:
            return False
        except Exception:  # noqa: BLE001 - not a refusal: the full enumeration decides
            return None
    with ThreadPoolExecutor(len(GATED), thread_name_prefix="tls-gate") as ex:
        return dict(zip(GATED, ex.map(one, GATED)))


def _scan(host: str, port: int, address: str | None = None, ca_bundle: str | None = None,
          timeout_s: float = 5.0, mozilla: bool = True, gate: bool = True) -> TlsObservation:
    from sslyze import (Scanner, ScanCommand, ScanCommandAttemptStatusEnum, ScanCommandsExtraArguments,
                        ServerNetworkConfiguration, ServerNetworkLocation, ServerScanRequest, ServerScanStatusEnum)
    from sslyze.plugins.certificate_info.implementation import CertificateInfoExtraArgument

    t0 = time.perf_counter()
    commands = {ScanCommand.CERTIFICATE_INFO, ScanCommand.HEARTBLEED, ScanCommand.ROBOT,
                ScanCommand.OPENSSL_CCS_INJECTION, ScanCommand.SESSION_RENEGOTIATION, ScanCommand.TLS_COMPRESSION}
    commands |= {ScanCommand(v) for v in PROTOCOL_COMMANDS.values()}
    if mozilla:
        from sslyze.mozilla_tls_profile.tls_config_checker import SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER
        commands |= set(SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER)
    extra = ScanCommandsExtraArguments(
        certificate_info=CertificateInfoExtraArgument(custom_ca_file=Path(ca_bundle))) if ca_bundle else \
        ScanCommandsExtraArguments()
    location = ServerNetworkLocation(host, port, ip_address=address)
    config = ServerNetworkConfiguration(tls_server_name_indication=host,
                                        network_timeout=max(1, int(round(timeout_s))), network_max_retries=1)
    refused = tuple(v for v, ok in version_gate(location, config).items() if ok is False) if gate else ()
    commands -= {ScanCommand(PROTOCOL_COMMANDS[v]) for v in refused}
    request = ServerScanRequest(server_location=location, network_configuration=config,
                                scan_commands=commands, scan_commands_extra_arguments=extra)
    scanner = Scanner(per_server_concurrent_connections_limit=5)
    with warnings.catch_warnings():     # sslyze's bundled stores hold old roots cryptography warns about
        warnings.simplefilter("ignore")
        scanner.queue_scans([request])
        results = list(scanner.get_results())
    res = results[0]
    addr = address or (res.server_location.ip_address if res.server_location else None)
    if res.scan_status == ServerScanStatusEnum.ERROR_NO_CONNECTIVITY or res.scan_result is None:
        trace = res.connectivity_error_trace
        exc = getattr(getattr(trace, "exc_type", None), "__name__", "") if trace else ""
        text = str(trace) if trace else "unknown"
        listener = {"ServerRejectedConnection": "refused",
                    "ServerTlsConfigurationNotSupported": "not-tls",
                    "ConnectionToServerTimedOut": "timeout"}.get(exc, "error")
        return TlsObservation(host, port, addr, listener, f"{exc}: {text}"[:400],
                              duration_s=time.perf_counter() - t0)

    sr = res.scan_result
    errors: dict[str, str] = {}

    def attempt(name: str):
        a = getattr(sr, name)
        if a.status != ScanCommandAttemptStatusEnum.COMPLETED:
            errors[name] = f"{a.error_reason}: {str(a.error_trace)[:200] if a.error_trace else ''}".strip(": ")
            return None
        return a.result

    chain: tuple[CertInfo, ...] = ()
    trust: tuple[TrustResult, ...] = ()
    ci = attempt("certificate_info")
    if ci is not None and ci.certificate_deployments:
        dep = ci.certificate_deployments[0]
        chain = tuple(cert_info(c) for c in dep.received_certificate_chain)
        trust = tuple(TrustResult(p.trust_store.name, p.was_validation_successful, p.validation_error)
                      for p in dep.path_validation_results)
    protocols: dict[str, bool | None] = {}
    weak: dict[str, tuple[str, ...]] = {}
    for label, cmd in PROTOCOL_COMMANDS.items():
        if label in refused:
            protocols[label] = False
            continue
        r = attempt(cmd)
        protocols[label] = None if r is None else bool(r.accepted_cipher_suites)
        if r is not None and r.accepted_cipher_suites and label in ("SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1"):
            weak[label] = tuple(s.cipher_suite.name for s in r.accepted_cipher_suites[:8])
    vulns: dict[str, bool | None] = {}
    details: dict[str, Any] = {}
    hb = attempt("heartbleed")
    vulns["heartbleed"] = None if hb is None else bool(hb.is_vulnerable_to_heartbleed)
    ccs = attempt("openssl_ccs_injection")
    vulns["ccs_injection"] = None if ccs is None else bool(ccs.is_vulnerable_to_ccs_injection)
    robot = attempt("robot")
    if robot is None:
        vulns["robot"] = None
    else:
        rv = robot.robot_result.name
        details["robot_result"] = rv
        vulns["robot"] = True if rv.startswith("VULNERABLE") else (None if "UNKNOWN" in rv else False)
    reneg = attempt("session_renegotiation")
    if reneg is None:
        vulns["insecure_renegotiation"] = None
    else:
        details["supports_secure_renegotiation"] = reneg.supports_secure_renegotiation
        details["client_renegotiation_dos"] = reneg.is_vulnerable_to_client_renegotiation_dos
        vulns["insecure_renegotiation"] = (not reneg.supports_secure_renegotiation) or \
            bool(reneg.is_vulnerable_to_client_renegotiation_dos)
    comp = attempt("tls_compression")
    vulns["compression"] = None if comp is None else bool(comp.supports_compression)

    moz = _mozilla_inputs(sr, refused) if mozilla else None
    return TlsObservation(host, port, addr, "tls", None, chain, trust, bool(ca_bundle), protocols, weak, vulns,
                          details, moz, errors, time.perf_counter() - t0, refused_in_one_handshake=refused)


def _mozilla_inputs(sr, refused: tuple[str, ...] = ()) -> MozillaInputs:
    """The parts of the scan sslyze's Mozilla checker reads, as plain picklable data. A version refused
    outright (``version_gate``) reads as sslyze's own result for it would: no suite accepted."""
    from cryptography.hazmat.primitives.serialization import Encoding
    from sslyze import CipherSuitesScanResult, ScanCommand, ScanCommandAttemptStatusEnum, TlsVersionEnum
    from sslyze.mozilla_tls_profile.tls_config_checker import SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER

    done = ScanCommandAttemptStatusEnum.COMPLETED
    outright = {PROTOCOL_COMMANDS[v]: CipherSuitesScanResult(TlsVersionEnum[GATED[v]], [], []) for v in refused}
    results = {c.value: outright[c.value] if c.value in outright else
               (getattr(sr, c.value).result if getattr(sr, c.value).status == done else None)
               for c in SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER if c != ScanCommand.CERTIFICATE_INFO}
    ci = sr.certificate_info
    if ci.status != done or ci.result is None:
        return MozillaInputs(results)
    deps = ci.result.certificate_deployments
    return MozillaInputs(results, True, tuple(d.received_certificate_chain[0].public_bytes(Encoding.DER) for d in deps),
                         tuple(bool(d.verified_certificate_chain) for d in deps))
