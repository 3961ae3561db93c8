"""Signing a station's certificate signing request with the central system's CA.

Uses the ``cryptography`` package (PyCA): X.509 parsing, CSR signature checks and
certificate building are security code that must not be written by hand.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["InvalidCsrError", "check_csr", "check_signed_chain", "leaf_of", "sign_csr"]


class InvalidCsrError(ValueError):
    """Not a PEM certificate signing request, or its signature does not verify."""


def check_csr(csr_pem: str, charge_box_id: str | None = None) -> str:
    """The CSR's subject (RFC 4514) when it parses, its signature verifies and (with
    ``charge_box_id``) its commonName is that station's id: a certificate must name the
    station it is presented for (security profile 3)."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
    except ValueError:
        raise InvalidCsrError("not a PEM certificate signing request") from None
    if not csr.is_signature_valid:
        raise InvalidCsrError("the request's signature does not verify")
    if charge_box_id is not None:
        names = [str(a.value) for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        if charge_box_id not in names:
            named = names[0] if names else "no commonName"
            raise InvalidCsrError(f"the request names {named!r}, not {charge_box_id}")
    return csr.subject.rfc4514_string()


def check_signed_chain(csr_pem: str, chain_pem: str) -> None:
    """An external CA's answer is a PEM chain whose first certificate is for the CSR's key."""
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    try:
        leaf = x509.load_pem_x509_certificates(chain_pem.encode())[0]
    except (ValueError, IndexError):
        raise ValueError("the signing command printed no PEM certificate") from None
    if leaf.public_key() != csr.public_key():
        raise ValueError("the signing command's certificate is not for the request's key")


def leaf_of(chain_pem: str) -> tuple[str, dt.datetime] | None:
    """(subject, expiry as naive UTC) of a PEM chain's first certificate; None: unreadable."""
    try:
        leaf = x509.load_pem_x509_certificates(chain_pem.encode())[0]
    except (ValueError, IndexError):
        return None
    return leaf.subject.rfc4514_string(), leaf.not_valid_after_utc.replace(tzinfo=None)


def sign_csr(
    csr_pem: str, ca_cert_file: str, ca_key_file: str, *, days: int, now: dt.datetime
) -> str:
    """The PEM chain (the new certificate, then the CA's) for CertificateSigned."""
    check_csr(csr_pem)
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    ca_pem = Path(ca_cert_file).read_bytes()
    ca_cert = x509.load_pem_x509_certificate(ca_pem)
    ca_key = serialization.load_pem_private_key(Path(ca_key_file).read_bytes(), password=None)
    if not isinstance(
        ca_key,
        rsa.RSAPrivateKey
        | ec.EllipticCurvePrivateKey
        | ed25519.Ed25519PrivateKey
        | ed448.Ed448PrivateKey,
    ):
        raise ValueError("the CA key cannot sign certificates")
    public_key = csr.public_key()
    start = now.replace(tzinfo=dt.UTC) - dt.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca_cert.subject)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(public_key),  # type: ignore[arg-type]
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    algorithm = (
        None
        if isinstance(ca_key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)
        else hashes.SHA256()
    )
    certificate = builder.sign(ca_key, algorithm)
    leaf = certificate.public_bytes(serialization.Encoding.PEM).decode()
    return leaf + ca_cert.public_bytes(serialization.Encoding.PEM).decode()
