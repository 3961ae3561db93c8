"""OCPP 1.6 security with the simulator and the real gateway over TLS, with real certificates:
profile 3, an upgrade from 2 to 3 through a CSR our CA signs, fallback, certificates, GetLog,
signed firmware."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import trio
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from db import Store
from db.errors import Conflict
from db.schema.models import CertificateRequest, Event, Station
from gateway import Gateway, GatewayConfig
from gateway.tls import station_tls_context
from simulator import SimulatedStation, StationSettings
from simulator.conformance import ConformanceOptions, run_conformance
from tests.e2e.registry import register_stations
from tests.e2e.test_simulator_gateway import poll_until
from tests.pki import Authority, make_authority

PASSWORD = "e2e-station-pass-16"


@pytest.fixture(name="ca")
def _ca(tmp_path: Path) -> Authority:
    return make_authority(tmp_path / "pki", "Operator CA")


async def tls_gateway(
    store: Store, nursery: trio.Nursery, ca: Authority, *, client_ca: Authority | None = None
) -> tuple[Gateway, str]:
    """The gateway over TLS; it signs CSRs with ``ca`` and verifies client certificates
    against ``client_ca`` (default: ``ca`` too)."""
    server = ca.server()
    verifier = str((client_ca or ca).cert_file)
    config = GatewayConfig(
        command_timeout=10.0,
        supervisor_interval=3600,
        ca_cert_file=str(ca.cert_file),
        ca_key_file=str(ca.key_file),
        client_ca_file=verifier,
    )
    context = station_tls_context(str(server.cert_file), str(server.key_file), verifier)
    gateway = Gateway(store, config=config)
    port = await nursery.start(
        lambda task_status: gateway.serve(
            "127.0.0.1", 0, ssl_context=context, task_status=task_status
        )
    )
    return gateway, f"wss://127.0.0.1:{port}/Ocpp/websocket"


def simulated(url: str, cbid: str, ca: Authority, **settings: Any) -> SimulatedStation:
    return SimulatedStation(
        StationSettings(
            url,
            cbid,
            outlets=1,
            ca_file=str(ca.cert_file),
            backoff_initial=0.05,
            backoff_max=0.2,
            reboot_delay=0.1,
            connect_timeout=5,
            **settings,
        )
    )


async def station_row(store: Store, cbid: str) -> Station:
    return await store.read(lambda: Station.get(Station.charge_box_id == cbid))


async def test_a_profile_3_station_connects_with_its_certificate_and_one_without_is_refused(
    store: Store, nursery: trio.Nursery, ca: Authority
) -> None:
    _, url = await tls_gateway(store, nursery, ca)
    await register_stations(store, ["SEC-3", "SEC-NOCERT"], outlets=1, security_profile=3)
    cert = ca.issue("SEC-3")
    good = simulated(
        url, "SEC-3", ca, client_cert=str(cert.cert_file), client_key=str(cert.key_file)
    )
    bare = simulated(url, "SEC-NOCERT", ca, security_profile=3)
    with trio.fail_after(20):
        await nursery.start(good.run)
        nursery.start_soon(bare.run)
        await bare.wait_for(lambda: bare.rejected_status is not None)
    assert good.online
    assert bare.rejected_status == 403
    assert not bare.online
    assert (await station_row(store, "SEC-3")).certificate_subject == "CN=SEC-3,O=Test CPO"
    good.stop()
    bare.stop()


async def test_a_profile_2_station_moves_to_3_with_a_certificate_the_operator_ca_signed(
    store: Store, nursery: trio.Nursery, ca: Authority
) -> None:
    gateway, url = await tls_gateway(store, nursery, ca)
    await register_stations(store, ["SEC-UP"], outlets=1, password=PASSWORD, security_profile=2)
    st = simulated(url, "SEC-UP", ca, password=PASSWORD)
    with trio.fail_after(30):
        await nursery.start(st.run)
        assert st.security.profile == 2
        answer = await gateway.call(
            "SEC-UP", "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}
        )
        assert answer == {"status": "Accepted"}
        await st.wait_for(lambda: st.certificates.certificate is not None)

        def installed() -> bool:
            request = CertificateRequest.get_or_none(CertificateRequest.charge_box_id == "SEC-UP")
            return request is not None and request.status == "Installed"

        await poll_until(installed, store)
        answer = await gateway.call(
            "SEC-UP", "ChangeConfiguration", {"key": "SecurityProfile", "value": "3"}
        )
        assert answer == {"status": "Accepted"}
        first = st.connect_count
        await st.wait_for(lambda: st.online and st.connect_count > first)
        await poll_until(
            lambda: Station.get(Station.charge_box_id == "SEC-UP").security_profile == 3, store
        )
        # no way back down: the gateway does not even send it
        with pytest.raises(Conflict, match="allows no downgrade to 2"):
            await gateway.call(
                "SEC-UP", "ChangeConfiguration", {"key": "SecurityProfile", "value": "2"}
            )
    assert st.security.profile == 3
    row = await station_row(store, "SEC-UP")
    assert (row.security_profile, row.security_profile_pending) == (3, None)
    assert row.certificate_subject == "CN=SEC-UP,O=ChargePortal"
    st.stop()


async def test_a_station_that_cannot_connect_with_the_new_profile_falls_back(
    store: Store, nursery: trio.Nursery, ca: Authority, tmp_path: Path
) -> None:
    """The gateway verifies client certificates against another CA than the one that
    signed the station's: profile 3 cannot work, the station returns to profile 2 after
    three failed attempts, the upgrade is dropped."""
    other = make_authority(tmp_path / "other", "Other CA")
    gateway, url = await tls_gateway(store, nursery, ca, client_ca=other)
    await register_stations(store, ["SEC-FB"], outlets=1, password=PASSWORD, security_profile=2)
    st = simulated(url, "SEC-FB", ca, password=PASSWORD)
    with trio.fail_after(30):
        await nursery.start(st.run)
        await gateway.call(
            "SEC-FB", "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}
        )
        await st.wait_for(lambda: st.certificates.certificate is not None)
        await poll_until(
            lambda: Station.get(Station.charge_box_id == "SEC-FB").certificate_subject != "",
            store,
        )
        await gateway.call(
            "SEC-FB", "ChangeConfiguration", {"key": "SecurityProfile", "value": "3"}
        )
        await st.wait_for(lambda: st.security.profile == 3)
        await st.wait_for(lambda: st.online and st.security.profile == 2)
        await poll_until(
            lambda: Station.get(Station.charge_box_id == "SEC-FB").security_profile_pending is None,
            store,
        )
        await st.wait_for(lambda: not st.security.unsent)
    row = await station_row(store, "SEC-FB")
    assert row.security_profile == 2

    def messages() -> list[str]:
        return [e.message for e in Event.select().where(Event.kind == "station.security")]

    texts = await store.read(messages)
    assert any(t.startswith("upgrade to security profile 3 failed") for t in texts)
    assert any("could not connect with security profile 3: back to 2" in t for t in texts)
    st.stop()


async def test_root_certificates_are_installed_listed_and_deleted(
    store: Store, nursery: trio.Nursery, ca: Authority, tmp_path: Path
) -> None:
    gateway, url = await tls_gateway(store, nursery, ca)
    await register_stations(store, ["SEC-ROOT"], outlets=1, password=PASSWORD, security_profile=2)
    st = simulated(url, "SEC-ROOT", ca, password=PASSWORD)
    maker = make_authority(tmp_path / "maker", "Maker Root")
    with trio.fail_after(20):
        await nursery.start(st.run)
        kind = {"certificateType": "ManufacturerRootCertificate"}
        assert await gateway.call("SEC-ROOT", "GetInstalledCertificateIds", kind) == {
            "status": "NotFound"
        }
        answer = await gateway.call(
            "SEC-ROOT", "InstallCertificate", {**kind, "certificate": maker.cert_pem}
        )
        assert answer == {"status": "Accepted"}
        listed = await gateway.call("SEC-ROOT", "GetInstalledCertificateIds", kind)
        [hash_data] = listed["certificateHashData"]
        assert hash_data["serialNumber"] == format(maker.certificate.serial_number, "x")
        bad = await gateway.call(
            "SEC-ROOT", "InstallCertificate", {**kind, "certificate": "not a certificate"}
        )
        assert bad == {"status": "Rejected"}
        gone = await gateway.call(
            "SEC-ROOT", "DeleteCertificate", {"certificateHashData": hash_data}
        )
        again = await gateway.call(
            "SEC-ROOT", "DeleteCertificate", {"certificateHashData": hash_data}
        )
    assert (gone, again) == ({"status": "Accepted"}, {"status": "NotFound"})
    st.stop()


async def test_get_log_uploads_the_security_log_to_an_ftp_server(
    store: Store, nursery: trio.Nursery, ca: Authority, ftp_root: tuple[str, Path]
) -> None:
    location, root = ftp_root
    gateway, url = await tls_gateway(store, nursery, ca)
    await register_stations(store, ["SEC-LOG"], outlets=1, password=PASSWORD, security_profile=2)
    st = simulated(url, "SEC-LOG", ca, password=PASSWORD)
    with trio.fail_after(20):
        await nursery.start(st.run)
        # a refused signed firmware leaves a security event in the log
        await gateway.call(
            "SEC-LOG",
            "SignedUpdateFirmware",
            {
                "requestId": 1,
                "firmware": {
                    "location": "http://127.0.0.1:1/x.bin",
                    "retrieveDateTime": st.timestamp(),
                    "signingCertificate": ca.cert_pem,
                    "signature": "AAAA",
                },
            },
        )
        answer = await gateway.call(
            "SEC-LOG",
            "GetLog",
            {"logType": "SecurityLog", "requestId": 7, "log": {"remoteLocation": location}},
        )
        await st.wait_for(lambda: st.security.log_status == "Uploaded")
        await poll_until(
            lambda: (
                Station.get(Station.charge_box_id == "SEC-LOG").diagnostics_status == "Uploaded"
            ),
            store,
        )
    assert answer["status"] == "Accepted"
    text = (root / answer["filename"]).read_text()
    assert "InvalidFirmwareSigningCertificate" in text
    st.stop()


def signed(image: bytes, key: ec.EllipticCurvePrivateKey) -> str:
    return base64.b64encode(key.sign(image, ec.ECDSA(hashes.SHA256()))).decode()


async def test_signed_firmware_is_verified_installed_and_a_bad_signature_refused(
    store: Store,
    nursery: trio.Nursery,
    ca: Authority,
    tmp_path: Path,
    http_root: tuple[str, Path],
) -> None:
    base, www = http_root
    image = b"VERSION=3.1.0\n" + b"\x01" * 2048
    (www / "fw-3.1.0.bin").write_bytes(image)
    maker = make_authority(tmp_path / "maker", "Maker Root")
    signer = maker.issue("Maker firmware signing", file_name="signer")
    gateway, url = await tls_gateway(store, nursery, ca)
    await register_stations(store, ["SEC-FW"], outlets=1, password=PASSWORD, security_profile=2)
    st = simulated(url, "SEC-FW", ca, password=PASSWORD)

    def firmware(signature: str, request_id: int) -> dict[str, Any]:
        return {
            "requestId": request_id,
            "firmware": {
                "location": f"{base}/fw-3.1.0.bin",
                "retrieveDateTime": st.timestamp(),
                "signingCertificate": signer.cert_pem,
                "signature": signature,
            },
        }

    with trio.fail_after(30):
        await nursery.start(st.run)
        refused = await gateway.call(
            "SEC-FW", "SignedUpdateFirmware", firmware(signed(image, signer.key), 1)
        )
        assert refused == {"status": "InvalidCertificate"}  # no manufacturer root yet
        await gateway.call(
            "SEC-FW",
            "InstallCertificate",
            {"certificateType": "ManufacturerRootCertificate", "certificate": maker.cert_pem},
        )
        tampered = signed(image + b"!", signer.key)
        answer = await gateway.call("SEC-FW", "SignedUpdateFirmware", firmware(tampered, 2))
        assert answer == {"status": "Accepted"}
        await st.wait_for(
            lambda: st.firmware_status == "Idle" and st.security.firmware_request is None
        )
        await poll_until(
            lambda: (
                Station.get(Station.charge_box_id == "SEC-FW").firmware_status == "InvalidSignature"
            ),
            store,
        )
        answer = await gateway.call(
            "SEC-FW", "SignedUpdateFirmware", firmware(signed(image, signer.key), 3)
        )
        assert answer == {"status": "Accepted"}
        await st.wait_for(lambda: st.boot_count == 2 and st.firmware_status == "Installed")
        await poll_until(
            lambda: Station.get(Station.charge_box_id == "SEC-FW").firmware_status == "Installed",
            store,
        )
    statuses = [
        text.split('"status":"')[1].split('"')[0]
        for direction, text in st.frames
        if direction == "out" and "SignedFirmwareStatusNotification" in text
    ]
    assert statuses == [
        "Downloading",
        "Downloaded",
        "InvalidSignature",
        "Downloading",
        "Downloaded",
        "SignatureVerified",
        "Installing",
        "Installed",
    ]
    assert (await station_row(store, "SEC-FW")).firmware_version == "3.1.0"
    st.stop()


@pytest.mark.slow  # four handshakes the TLS layer refuses, each noticed at a timeout
async def test_the_conformance_run_passes_its_profile_3_checks(
    store: Store, nursery: trio.Nursery, ca: Authority
) -> None:
    _, url = await tls_gateway(store, nursery, ca)
    await register_stations(store, ["SEC-CONF"], outlets=2, password=PASSWORD, security_profile=3)
    cert = ca.issue("SEC-CONF")
    options = ConformanceOptions(
        url,
        "SEC-CONF",
        password=PASSWORD,
        ca_file=str(ca.cert_file),
        client_cert=str(cert.cert_file),
        client_key=str(cert.key_file),
        timeout=5.0,
    )
    with trio.fail_after(90):
        results = await run_conformance(options)
    outcomes = {r.name: (r.outcome, r.detail) for r in results if r.name.startswith("profile3-")}
    assert outcomes["profile3-client-certificate"] == ("PASS", "accepted")
    assert outcomes["profile3-no-certificate-refused"] == ("PASS", "HTTP 401")  # no password
    assert outcomes["profile3-password-only-refused"] == ("PASS", "HTTP 403")
    assert outcomes["profile3-untrusted-certificate-refused"][0] == "PASS"
    assert [r for r in results if r.outcome == "FAIL"] == []
