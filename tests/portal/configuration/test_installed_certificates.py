"""The Control tab lists the certificates a station reported (GetInstalledCertificateIds)
with a Delete each, and says the DeleteCertificate answer in words."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path
from typing import Any

import trio

from db import Store
from gateway import Gateway
from simulator import SimulatedStation
from tests.pki import make_authority
from tests.portal.conftest import World, login, post, simulated_station

ROOT = "CentralSystemRootCertificate"
_DELETE_FORM = re.compile(r"<form[^>]*data-delete-certificate[^>]*>(.*?)</form>", re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


async def _online(nursery: trio.Nursery, gateway: Gateway) -> SimulatedStation:
    station = simulated_station(gateway, "SOLNA-1")
    await nursery.start(station.run)
    await station.wait_online()
    return station


async def _tab(client: Any, world: World) -> str:
    page = await client.get(f"/configuration/control?node=station:{world.solna_station}")
    assert page.status_code == 200
    return await page.get_data(as_text=True)


def _delete_forms(html: str) -> list[dict[str, str]]:
    """The hidden fields of each listed certificate's Delete form."""
    return [
        {
            name: html_lib.unescape(value)
            for name, value in _HIDDEN.findall(body)
            if name != "csrf_token"
        }
        for body in _DELETE_FORM.findall(html)
    ]


async def test_listed_certificates_show_with_a_delete_each_and_the_answer_in_words(
    client: Any,
    store: Store,
    serving_gateway: Gateway,
    world: World,
    nursery: trio.Nursery,
    tmp_path: Path,
) -> None:
    first = make_authority(tmp_path / "one", "Operator Root One")
    second = make_authority(tmp_path / "two", "Operator Root Two")
    control = f"/configuration/stations/{world.solna_station}/control"
    with trio.fail_after(30):
        station = await _online(nursery, serving_gateway)
        await login(client, "support@example.com")
        before = await _tab(client, world)
        for authority in (first, second):
            await post(
                client,
                f"{control}/install-certificate",
                {"certificateType": ROOT, "certificate": authority.cert_pem},
            )
        listed = await post(
            client, f"{control}/get-installed-certificate-ids", {"certificateType": ROOT}
        )
        listed_text = await listed.get_data(as_text=True)
        tab = await _tab(client, world)
        forms = _delete_forms(tab)
        serial = format(first.certificate.serial_number, "x")
        chosen = next(f for f in forms if f["serialNumber"] == serial)
        deleted = await post(client, f"{control}/delete-certificate", chosen)
        deleted_text = await deleted.get_data(as_text=True)
        after = await _tab(client, world)
        again = await post(client, f"{control}/delete-certificate", chosen)
        again_text = await again.get_data(as_text=True)
        api = await (await client.get("/api/v1/stations/SOLNA-1/security")).get_json()
    assert "never read" in before
    assert "The station has 2 certificates of the kind CentralSystemRootCertificate." in listed_text
    assert len(forms) == 2
    assert {f["certificateType"] for f in forms} == {ROOT}
    assert serial in tab
    assert "data-confirm=" in tab.split("data-delete-certificate")[1][:1500]
    assert "The station deleted the certificate." in deleted_text
    assert [f["serialNumber"] for f in _delete_forms(after)] == [
        format(second.certificate.serial_number, "x")
    ]
    assert [c.serial_number for c in station.certificates.roots[ROOT]] == [
        second.certificate.serial_number
    ]
    assert "The station has no such certificate (NotFound)" in again_text
    kept = api["installedCertificates"][ROOT]
    assert [c["serialNumber"] for c in kept["certificates"]] == [
        format(second.certificate.serial_number, "x")
    ]
    assert kept["readAt"].endswith("Z")
    assert kept["installedSince"] is None


async def test_a_certificate_installed_after_the_list_was_read_marks_it_out_of_date(
    client: Any,
    store: Store,
    serving_gateway: Gateway,
    world: World,
    nursery: trio.Nursery,
    tmp_path: Path,
) -> None:
    root = make_authority(tmp_path / "one", "Operator Root One")
    control = f"/configuration/stations/{world.solna_station}/control"
    with trio.fail_after(30):
        await _online(nursery, serving_gateway)
        await login(client, "admin@example.com")
        empty = await post(
            client, f"{control}/get-installed-certificate-ids", {"certificateType": ROOT}
        )
        empty_text = await empty.get_data(as_text=True)
        read = await _tab(client, world)
        await post(
            client,
            f"{control}/install-certificate",
            {"certificateType": ROOT, "certificate": root.cert_pem},
        )
        stale = await _tab(client, world)
    assert "The station has no certificate of the kind CentralSystemRootCertificate." in empty_text
    assert 'data-answer="NotFound"' in empty_text
    assert "result ok" in empty_text
    assert "No CentralSystemRootCertificate installed" in read
    assert "installed since this list was read" in stale


async def test_roles_without_certificate_actions_do_not_see_the_list(
    client: Any, store: Store, world: World
) -> None:
    await login(client, "site-admin@example.com")
    tab = await _tab(client, world)
    fragment = await client.get(f"/configuration/stations/{world.solna_station}/certificates")
    assert 'data-testid="installed-certificates"' not in tab
    assert fragment.status_code == 403


_GET_FORM = re.compile(r"<form[^>]*data-get-certificates[^>]*>(.*?)</form>", re.S)


async def test_the_list_offers_a_get_button_per_use_and_reads_again_from_it(
    client: Any,
    store: Store,
    serving_gateway: Gateway,
    world: World,
    nursery: trio.Nursery,
    tmp_path: Path,
) -> None:
    control = f"/configuration/stations/{world.solna_station}/control"
    with trio.fail_after(30):
        await _online(nursery, serving_gateway)
        await login(client, "support@example.com")
        never = await _tab(client, world)
        buttons = _GET_FORM.findall(never)
        uses = [dict(_HIDDEN.findall(body))["certificateType"] for body in buttons]
        answer = await post(
            client, f"{control}/get-installed-certificate-ids", {"certificateType": uses[1]}
        )
        trigger = answer.headers.get("HX-Trigger")
        read = await _tab(client, world)
    assert "never read" in never
    assert uses == [ROOT, "ManufacturerRootCertificate"]
    assert all("Get installed certificate ids" in body for body in buttons)
    assert trigger == "cp:certificates"  # the list re-reads itself after the answer
    again = [body for body in _GET_FORM.findall(read) if "ManufacturerRootCertificate" in body]
    assert "Read again" in again[0]
