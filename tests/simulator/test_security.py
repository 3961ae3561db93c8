"""The simulated station's side of OCPP 1.6 security: profile changes, CSRs, certificates."""

from __future__ import annotations

from pathlib import Path

import trio
from cryptography import x509
from cryptography.x509.oid import NameOID

from tests.pki import make_authority
from tests.simulator.minimal_cs import MinimalCentralSystem
from tests.simulator.test_commands import make_station


async def test_tc_084_cs_the_profile_only_goes_up_and_only_with_credentials(
    cs: MinimalCentralSystem, nursery: trio.Nursery
) -> None:
    station = make_station(cs, "SEC1", password="sim-station-pass-16")
    with trio.fail_after(10):
        await nursery.start(station.run)
        assert station.security.profile == 1
        answers = [
            await cs.call("SEC1", "ChangeConfiguration", {"key": "SecurityProfile", "value": v})
            for v in ("0", "2", "3", "x", "1")
        ]
    # 0: a downgrade; 2 and 3: no TLS here (and no certificate); x: not a profile
    assert [a["status"] for a in answers] == ["Rejected"] * 4 + ["Accepted"]
    assert station.security.profile == 1
    station.stop()


async def test_sign_charge_point_certificate_sends_a_csr_naming_the_station(
    cs: MinimalCentralSystem, nursery: trio.Nursery, tmp_path: Path
) -> None:
    station = make_station(cs, "SEC2")
    with trio.fail_after(10):
        await nursery.start(station.run)
        answer = await cs.call(
            "SEC2", "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}
        )
        assert answer == {"status": "Accepted"}
        await cs.wait_for(lambda: cs.payloads("SignCertificate"))
        csr = x509.load_pem_x509_csr(cs.payloads("SignCertificate")[0]["csr"].encode())
        # a certificate for another key: refused, and said in a security event
        ca = make_authority(tmp_path, "Some CA")
        stranger = ca.issue("SEC2")
        refused = await cs.call(
            "SEC2", "CertificateSigned", {"certificateChain": stranger.cert_pem + ca.cert_pem}
        )
        await cs.wait_for(lambda: cs.payloads("SecurityEventNotification"))
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "SEC2"
    assert refused == {"status": "Rejected"}
    assert cs.payloads("SecurityEventNotification")[0]["type"] == "InvalidChargePointCertificate"
    assert station.certificates.certificate is None
    station.stop()
