"""The lab's certificate authority (``cryptography``): a CA the lab profiles trust, and leaf certificates
valid, expired, for another name or self-signed, as the scenarios need."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _key(kind: str):
    return ec.generate_private_key(ec.SECP256R1()) if kind == "ec" else rsa.generate_private_key(65537, 2048)


def _write_key(path: Path, key) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    os.chmod(path, 0o600)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PREP Conformance Lab (ficticio)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class CA:
    """``<dir>/ca.pem`` + ``ca.key``, made once and reused; leaves in ``<dir>/<name>.pem`` / ``.key``."""

    def __init__(self, directory: Path):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cert_path = self.dir / "ca.pem"
        self.key_path = self.dir / "ca.key"
        now = dt.datetime.now(dt.timezone.utc)
        if self.cert_path.exists() and self.key_path.exists():
            self.cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
            self.key = serialization.load_pem_private_key(self.key_path.read_bytes(), None)
            if self.cert.not_valid_after_utc > now + dt.timedelta(days=400):
                return
        self.key = _key("ec")
        subject = _name("PREP Conformance Lab CA")
        self.cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                  content_commitment=False, key_encipherment=False,
                                                  data_encipherment=False, key_agreement=False,
                                                  encipher_only=False, decipher_only=False), critical=True)
                     .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
                     .sign(self.key, hashes.SHA256()))
        _write_key(self.key_path, self.key)
        self.cert_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        for old in self.dir.glob("*.meta.json"):  # leaves of an older CA are stale
            old.unlink()

    def issue(self, name: str, spec, names: tuple[str, ...] = (), now: dt.datetime | None = None) -> tuple[Path, Path]:
        """A leaf for ``names`` (or ``spec.names``) per ``spec`` (a ``CertSpec``); reused when unchanged."""
        now = now or dt.datetime.now(dt.timezone.utc)
        dns = list(spec.names or names) or [name]
        if spec.kind == "wrong_name" and not spec.names:
            dns = ["otro.lab.prep.example"]
        if spec.not_after is not None:
            not_after = spec.not_after.astimezone(dt.timezone.utc)
        else:
            days = spec.not_after_days if spec.not_after_days is not None else (-2 if spec.kind == "expired" else 365)
            not_after = now + dt.timedelta(days=days)
        not_before = now + dt.timedelta(days=spec.not_before_days)
        if spec.kind == "expired" and not_before >= not_after:
            not_before = not_after - dt.timedelta(days=90)
        cert_path, key_path, meta_path = (self.dir / f"{name}.pem", self.dir / f"{name}.key",
                                          self.dir / f"{name}.meta.json")
        # Same request on the same day (and same CA): keep the files (lab up twice is cheap and stable).
        meta = {"kind": spec.kind, "dns": dns, "not_after": not_after.date().isoformat(), "key": spec.key,
                "not_before": not_before.date().isoformat(), "ca": self._ca_id()}
        if cert_path.exists() and key_path.exists() and meta_path.exists():
            try:
                if json.loads(meta_path.read_text()) == meta:
                    return cert_path, key_path
            except ValueError:
                pass
        key = _key(spec.key)
        subject = _name(dns[0])
        issuer_key = key if spec.kind == "self_signed" else self.key
        issuer = subject if spec.kind == "self_signed" else self.cert.subject
        sans: list[x509.GeneralName] = []
        for n in dns:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                sans.append(x509.DNSName(n))
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
             .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
             .add_extension(x509.SubjectAlternativeName(sans), critical=False)
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
        if spec.kind != "self_signed":
            b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                                critical=False)
        cert = b.sign(issuer_key, hashes.SHA256())
        _write_key(key_path, key)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        meta_path.write_text(json.dumps(meta))
        return cert_path, key_path

    def _ca_id(self) -> str:
        return hashlib.sha256(self.cert.public_bytes(serialization.Encoding.DER)).hexdigest()[:16]
