"""Conformance checks of security profile 3 (TLS client certificates), seen from a station:
its certificate is enough, and no certificate, a password alone or a certificate from a CA
the central system does not trust are refused at the handshake."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from simulator.conformance_base import CheckResult, ConformanceOptions
from simulator.conformance_refused import first_answer
from simulator.station import SimulatedStation, StationSettings

__all__ = ["profile3"]

REFUSAL_TIMEOUT = 3.0  # a handshake the TLS layer drops is noticed only at the timeout


async def _handshake(
    o: ConformanceOptions,
    *,
    password: str | None = None,
    cert: tuple[str, str] | None = None,
    profile: int,
) -> str:
    """ "accepted", "HTTP <status>" or the state the station was left in."""
    timeout = o.timeout if cert is not None and profile == 3 else min(o.timeout, REFUSAL_TIMEOUT)
    station = SimulatedStation(
        StationSettings(
            o.url,
            o.charge_box_id,
            password=password,
            ca_file=o.ca_file,
            client_cert=cert[0] if cert else None,
            client_key=cert[1] if cert else None,
            security_profile=profile,
            history=50,
            connect_timeout=timeout,
            backoff_initial=60,
        )
    )
    got = await first_answer(station, timeout + 2)
    return got if got.startswith("HTTP") or got == "accepted" else f"refused ({got})"


def _self_signed(folder: Path, charge_box_id: str) -> tuple[str, str]:
    """A certificate naming the station from a CA nobody trusts."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, charge_box_id)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "untrusted.pem", folder / "untrusted.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


def _refused(name: str, got: str, results: list[CheckResult]) -> None:
    results.append(CheckResult(name, "FAIL" if got == "accepted" else "PASS", got))


async def profile3(o: ConformanceOptions, results: list[CheckResult]) -> None:
    """Run the profile 3 checks (SKIP without ``client_cert``/``client_key``)."""
    names = (
        "profile3-client-certificate",
        "profile3-no-certificate-refused",
        "profile3-password-only-refused",
        "profile3-untrusted-certificate-refused",
    )
    if not (o.client_cert and o.client_key) or not o.url.startswith("wss:"):
        why = "needs a wss:// URL, --client-cert and --client-key (security profile 3)"
        results.extend(CheckResult(name, "SKIP", why) for name in names)
        return
    got = await _handshake(o, cert=(o.client_cert, o.client_key), profile=3)
    results.append(CheckResult(names[0], "PASS" if got == "accepted" else "FAIL", got))
    _refused(names[1], await _handshake(o, profile=3), results)
    if o.password:
        _refused(names[2], await _handshake(o, password=o.password, profile=2), results)
    else:
        results.append(CheckResult(names[2], "SKIP", "no --password given"))
    with tempfile.TemporaryDirectory() as folder:
        untrusted = _self_signed(Path(folder), o.charge_box_id)
        _refused(names[3], await _handshake(o, cert=untrusted, profile=3), results)
