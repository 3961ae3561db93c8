"""End to end: SignCertificate is signed by the configured CA, or waits for an external one."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shlex
import sys
from pathlib import Path
from typing import Any

import trio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from db import Store
from db.schema.models import CertificateRequest, Event, Station
from gateway import Gateway
from tests.gateway.conftest import TEST_CONFIG, add_station
from tests.gateway.ocpp_client import open_station


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test CPO"),
        ]
    )


def make_ca(folder: Path) -> tuple[str, str, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Test CA"))
        .issuer_name(_name("Test CA"))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "ca.pem", folder / "ca.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file), cert


def make_csr(common_name: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(_name(common_name))
    signed = csr.sign(key, hashes.SHA256())
    return signed.public_bytes(serialization.Encoding.PEM).decode()


def requests() -> list[tuple[str, str]]:
    query = CertificateRequest.select().order_by(CertificateRequest.id)
    return [(r.status, r.detail) for r in query]


async def serving(store: Store, nursery: trio.Nursery, **config: Any) -> Gateway:
    gateway = Gateway(store, config=dataclasses.replace(TEST_CONFIG, **config))
    await nursery.start(gateway.serve, "127.0.0.1", 0)
    assert gateway.port is not None
    return gateway


async def test_a_csr_is_signed_by_the_configured_ca_and_sent_back(
    store: Store, nursery: trio.Nursery, db_write, tmp_path: Path
) -> None:
    cert_file, key_file, ca = make_ca(tmp_path)
    gateway = await serving(store, nursery, ca_cert_file=cert_file, ca_key_file=key_file)
    await db_write(add_station, "CP1")
    statuses: list[str] = []
    with trio.fail_after(10):
        async with gateway.events.subscribe() as feed, open_station(gateway.port, "CP1") as station:
            answer = await station.result("SignCertificate", {"csr": make_csr("CP1")})
            call = await station.next_call()
            await station.answer(call, {"status": "Accepted"})
            while "Installed" not in statuses:  # stored, then published
                event = await feed.receive()
                if event.kind == "certificate.status":
                    statuses.append(event.data["status"])
    assert answer == {"status": "Accepted"}
    assert call[2] == "CertificateSigned"
    chain = x509.load_pem_x509_certificates(call[3]["certificateChain"].encode())
    leaf = chain[0]
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CP1"
    assert leaf.issuer == ca.subject
    leaf.verify_directly_issued_by(ca)
    assert chain[1] == ca
    assert (await store.read(requests))[0][0] == "Installed"


async def test_without_a_ca_the_request_waits_for_an_external_one(
    store: Store, nursery: trio.Nursery, db_write
) -> None:
    gateway = await serving(store, nursery)
    await db_write(add_station, "CP1")
    with trio.fail_after(10):
        async with open_station(gateway.port or 0, "CP1") as station:
            answer = await station.result("SignCertificate", {"csr": make_csr("CP1")})
            refused = await station.result("SignCertificate", {"csr": "not a CSR"})
    assert answer == {"status": "Accepted"}
    assert refused == {"status": "Rejected"}
    stored = await store.read(requests)
    assert stored[0][0] == "Pending"
    assert "external CA" in stored[0][1]
    assert stored[1] == ("Rejected", "not a PEM certificate signing request")
    logged = await store.read(
        lambda: [e.message for e in Event.select().where(Event.kind == "station.certificate")]
    )
    assert len(logged) == 2


async def _request_status(store: Store, status: str) -> None:
    """Wait until the newest request has ``status`` (signing runs after the answer)."""
    while True:
        if (await store.read(requests))[-1][0] == status:
            return
        await trio.sleep(0.05)


SIGNER = """
import datetime as dt, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
ca = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
key = serialization.load_pem_private_key(open(sys.argv[2], "rb").read(), None)
csr = x509.load_pem_x509_csr(sys.stdin.buffer.read())
now = dt.datetime.now(dt.UTC)
cert = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(ca.subject)
        .public_key(csr.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=90))
        .sign(key, hashes.SHA256()))
sys.stdout.write(cert.public_bytes(serialization.Encoding.PEM).decode())
"""


async def test_an_external_signing_command_signs_without_its_key_in_the_gateway(
    store: Store, nursery: trio.Nursery, db_write, tmp_path: Path
) -> None:
    cert_file, key_file, ca = make_ca(tmp_path)
    script = tmp_path / "signer.py"
    script.write_text(SIGNER)
    command = shlex.join([sys.executable, str(script), cert_file, key_file])
    gateway = await serving(store, nursery, ca_sign_command=command)
    await db_write(add_station, "CP1")
    with trio.fail_after(20):
        async with open_station(gateway.port or 0, "CP1") as station:
            wrong = await station.result("SignCertificate", {"csr": make_csr("CP2")})
            answer = await station.result("SignCertificate", {"csr": make_csr("CP1")})
            call = await station.next_call()
            await station.answer(call, {"status": "Accepted"})
            await _request_status(store, "Installed")
    assert (wrong, answer) == ({"status": "Rejected"}, {"status": "Accepted"})
    leaf = x509.load_pem_x509_certificates(call[3]["certificateChain"].encode())[0]
    leaf.verify_directly_issued_by(ca)
    stored = await store.read(requests)
    assert stored[0] == ("Rejected", "the request names 'CP2', not CP1")
    row = await store.read(lambda: Station.get(Station.charge_box_id == "CP1"))
    assert row.certificate_expires_at == leaf.not_valid_after_utc.replace(tzinfo=None)


async def test_a_failing_signing_command_leaves_the_request_failed(
    store: Store, nursery: trio.Nursery, db_write, tmp_path: Path
) -> None:
    command = shlex.join([sys.executable, "-c", "import sys; sys.exit('CA offline')"])
    gateway = await serving(store, nursery, ca_sign_command=command)
    await db_write(add_station, "CP1")
    with trio.fail_after(20):
        async with open_station(gateway.port or 0, "CP1") as station:
            await station.result("SignCertificate", {"csr": make_csr("CP1")})
            await _request_status(store, "Failed")
    detail = (await store.read(requests))[-1][1]
    assert detail == "signing failed: the signing command exited with 1: CA offline"
