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
from cryptography.x509.oid import ExtendedKeyUsageOID

__all__ = ["InvalidCsrError", "check_csr", "sign_csr"]


class InvalidCsrError(ValueError):
    """Not a PEM certificate signing request, or its signature does not verify."""


def check_csr(csr_pem: str) -> str:
    """The CSR's subject (RFC 4514) when it parses and its signature verifies."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
    except ValueError:
        raise InvalidCsrError("not a PEM certificate signing request") from None
    if not csr.is_signature_valid:
        raise InvalidCsrError("the request's signature does not verify")
    return csr.subject.rfc4514_string()


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
