"""The security extension's Control actions (as the portal and the JSON API run them)
against a simulated station: a security log lands on the embedded FTP server, a signed
firmware image is verified and installed, certificates are listed and deleted."""

from __future__ import annotations

import base64
from pathlib import Path

import trio
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from db import Store
from db.schema.models import DiagnosticsFile, Station
from db.topology.station_files import record_firmware
from tests.e2e.config_rig import open_rig, seed, wait_until, wait_until_async
from tests.pki import make_authority


async def test_get_log_from_the_control_tab_lands_the_security_log(
    store: Store, tmp_path: Path
) -> None:
    ids = await store.write(seed)
    with trio.fail_after(20):
        async with open_rig(store, tmp_path) as rig:
            await rig.station("SIM-1")
            result = await rig.act("SIM-1", "get-log", logType="SecurityLog")
            assert result.answer["status"] == "Accepted"
            row = await wait_until_async(
                lambda: store.read(
                    lambda: DiagnosticsFile.get_or_none(DiagnosticsFile.station == ids["SIM-1"])
                )
            )
            stored = rig.files.diagnostics_path(row.path)
            await wait_until_async(
                lambda: store.read(
                    lambda: Station.get_by_id(ids["SIM-1"]).diagnostics_status == "Uploaded"
                )
            )
    assert row.filename == result.answer["filename"]
    assert b"# security log of SIM-1" in stored.read_bytes()


async def test_a_signed_firmware_update_from_the_control_tab_is_verified_and_installed(
    store: Store, tmp_path: Path
) -> None:
    ids = await store.write(seed)
    maker = make_authority(tmp_path / "maker", "Maker Root")
    signer = maker.issue("Maker firmware signing", file_name="signer")
    image = b"VERSION=4.0.0\n" + b"\x02" * 4096
    signature = base64.b64encode(signer.key.sign(image, ec.ECDSA(hashes.SHA256()))).decode()
    with trio.fail_after(30):
        async with open_rig(store, tmp_path) as rig:
            stored = rig.files.save_firmware("sim-4.0.0.bin", image)
            image_id = await store.write(
                lambda: record_firmware(
                    stored.name, version="4.0.0", size=stored.size, sha256=stored.sha256,
                    user_id=None,
                )
            )  # fmt: skip
            station = await rig.station("SIM-1")
            kind = {"certificateType": "ManufacturerRootCertificate"}
            installed = await rig.act(
                "SIM-1", "install-certificate", **kind, certificate=maker.cert_pem
            )
            listed = await rig.act("SIM-1", "get-installed-certificate-ids", **kind)
            update = await rig.act(
                "SIM-1",
                "signed-update-firmware",
                imageId=image_id,
                transport="ftp",
                signingCertificate=signer.cert_pem,
                signature=signature,
            )
            await wait_until(
                lambda: station.boot_count == 2 and station.firmware_status == "Installed"
            )
            await wait_until_async(
                lambda: store.read(
                    lambda: Station.get_by_id(ids["SIM-1"]).firmware_status == "Installed"
                )
            )
            hash_data = listed.answer["certificateHashData"][0]
            deleted = await rig.act("SIM-1", "delete-certificate", **hash_data)
    assert installed.answer == {"status": "Accepted"}
    assert update.answer == {"status": "Accepted"}
    assert deleted.answer == {"status": "Accepted"}
    version = await store.read(lambda: Station.get_by_id(ids["SIM-1"]).firmware_version)
    assert version == "4.0.0"
