"""A simulated station's certificate store (OCPP 1.6 security): roots, its own certificate, CSRs.

Kept in memory; PEM files are written only where Python's ``ssl`` needs a file (the
client certificate and key for a profile 3 connection), into a private temporary folder.
Uses ``cryptography`` for parsing, CSRs and signature checks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

__all__ = ["CertificateStore", "hash_data", "verify_firmware_signature"]

ROOT_TYPES = ("CentralSystemRootCertificate", "ManufacturerRootCertificate")
MAX_PER_TYPE = 10


def _load_chain(pem: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        return []


def hash_data(cert: x509.Certificate) -> dict[str, str]:
    """OCPP's CertificateHashDataType of a certificate (SHA256; the issuer's name and key
    hashes: for a root, its own)."""
    issuer_key = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": hashlib.sha256(cert.issuer.public_bytes()).hexdigest(),
        "issuerKeyHash": hashlib.sha256(issuer_key).hexdigest(),
        "serialNumber": format(cert.serial_number, "x"),
    }


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _valid_at(cert: x509.Certificate, now: dt.datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def verify_firmware_signature(
    signing_cert: x509.Certificate, image: bytes, signature: bytes
) -> bool:
    """The whitepaper's signed firmware: the image's signature by the signing certificate's
    key (ECDSA or RSA PKCS#1 v1.5, SHA-256)."""
    key = signing_cert.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, image, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, image, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


@dataclass
class _Own:
    chain: list[x509.Certificate]
    key: ec.EllipticCurvePrivateKey


class CertificateStore:
    """Roots by use, the station's own certificate (and key), and the key of a pending CSR."""

    def __init__(self, charge_box_id: str, organization: str = "ChargePortal") -> None:
        self.charge_box_id = charge_box_id
        self.organization = organization
        self.roots: dict[str, list[x509.Certificate]] = {t: [] for t in ROOT_TYPES}
        self._own: _Own | None = None
        self._pending_key: ec.EllipticCurvePrivateKey | None = None
        self._folder: Path | None = None
        self.files: tuple[str, str] | None = None  # (cert, key) files of the own certificate

    # -- roots -------------------------------------------------------------------------
    def install_root(self, kind: str, pem: str) -> str:
        """InstallCertificate: Accepted, Rejected (not a certificate) or Failed (full)."""
        chain = _load_chain(pem)
        if kind not in self.roots or len(chain) != 1:
            return "Rejected"
        cert = chain[0]
        roots = self.roots[kind]
        if any(c.fingerprint(hashes.SHA256()) == cert.fingerprint(hashes.SHA256()) for c in roots):
            return "Accepted"
        if len(roots) >= MAX_PER_TYPE:
            return "Failed"
        roots.append(cert)
        return "Accepted"

    def installed_ids(self, kind: str) -> list[dict[str, str]]:
        return [hash_data(c) for c in self.roots.get(kind, [])]

    def delete(self, wanted: dict[str, Any]) -> str:
        """DeleteCertificate: Accepted, NotFound; Failed for the own certificate's issuer."""
        keys = ("issuerNameHash", "issuerKeyHash", "serialNumber")
        for roots in self.roots.values():
            for cert in roots:
                data = hash_data(cert)
                if all(str(wanted.get(k, "")).lower() == data[k] for k in keys):
                    if self._own is not None and _signed_by(self._own.chain[-1], cert):
                        return "Failed"  # the station would lose its own trust chain
                    roots.remove(cert)
                    return "Accepted"
        return "NotFound"

    def central_system_roots_pem(self) -> str:
        return "".join(
            c.public_bytes(serialization.Encoding.PEM).decode()
            for c in self.roots["CentralSystemRootCertificate"]
        )

    # -- the station's own certificate ------------------------------------------------
    def make_csr(self) -> str:
        """A new key and its CSR (CN = the charge box id, O = the operator)."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.organization),
                x509.NameAttribute(NameOID.COMMON_NAME, self.charge_box_id),
            ]
        )
        csr = (
            x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
        )
        self._pending_key = key
        return csr.public_bytes(serialization.Encoding.PEM).decode()

    def install_signed(self, chain_pem: str, now: dt.datetime) -> str:
        """CertificateSigned: Accepted when the chain's leaf is for the pending key, names
        this station and is valid now; else Rejected (a security event for the caller)."""
        chain = _load_chain(chain_pem)
        key = self._pending_key
        if not chain or key is None:
            return "Rejected"
        leaf = chain[0]
        same_key = leaf.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ) == key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        names = [a.value for a in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        if not same_key or self.charge_box_id not in names or not _valid_at(leaf, now):
            return "Rejected"
        if len(chain) > 1 and not _signed_by(leaf, chain[1]):
            return "Rejected"
        self._own = _Own(chain, key)
        self._pending_key = None
        self._write_files()
        return "Accepted"

    def use_files(self, cert_file: str, key_file: str) -> None:
        """A certificate given at start (the operator installed it in the factory)."""
        chain = x509.load_pem_x509_certificates(Path(cert_file).read_bytes())
        key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ValueError("the station key is not an EC or RSA key")
        self._own = _Own(chain, key)  # type: ignore[arg-type]
        self.files = (cert_file, key_file)

    @property
    def certificate(self) -> x509.Certificate | None:
        return self._own.chain[0] if self._own is not None else None

    def has_valid_certificate(self, now: dt.datetime) -> bool:
        cert = self.certificate
        return cert is not None and _valid_at(cert, now)

    def _write_files(self) -> None:
        assert self._own is not None
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix=f"sim-{self.charge_box_id[:20]}-"))
        cert_file, key_file = self._folder / "station.pem", self._folder / "station.key"
        cert_file.write_bytes(
            b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self._own.chain)
        )
        key_file.touch(mode=0o600)
        key_file.write_bytes(
            self._own.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.files = (str(cert_file), str(key_file))

    # -- firmware ---------------------------------------------------------------------
    def firmware_signer(self, pem: str, now: dt.datetime) -> x509.Certificate | None:
        """The signing certificate when an installed manufacturer root issued it and it is
        valid now; None: InvalidCertificate."""
        chain = _load_chain(pem)
        if not chain or not _valid_at(chain[0], now):
            return None
        signer = chain[0]
        if any(_signed_by(signer, root) for root in self.roots["ManufacturerRootCertificate"]):
            return signer
        return None
