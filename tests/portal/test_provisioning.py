"""Provisioning pages: role-specific forms, RFID rules, clear errors, deletes keep sessions."""

from __future__ import annotations

from typing import Any

from db import Store
from db.schema.models import ChargingSession, IdTag, User
from tests.portal.conftest import World, login, post

EV = {
    "role": "ev-user",
    "first_name": "Eva",
    "last_name": "Driver",
    "email": "Eva@Example.com",
    "password": "Charge2026",
    "rfid": "",
}


async def _create(client: Any, **fields: str) -> Any:
    return await post(client, "/provisioning/users/new", {**EV, **fields})


async def test_an_ev_user_with_a_hex_rfid_is_shown_in_decimal_before_it_is_stored(
    client: Any, store: Store, world: World
) -> None:
    await login(client, "admin@example.com")
    response = await _create(client, rfid="04:A2:1B:3C")
    html = await response.get_data(as_text=True)
    assert response.status_code == 400  # nothing saved yet: the person sees the number
    assert f'value="{0x04A21B3C}"' in html
    assert "in decimal it is" in html
    assert await store.read(lambda: User.get_or_none(User.email == "Eva@Example.com")) is None
    response = await _create(client, rfid=str(0x04A21B3C))
    assert response.status_code == 302
    user = await store.read(lambda: User.get(User.email == "Eva@Example.com"))
    tags = await store.read(lambda: [t.id_tag for t in IdTag.select().where(IdTag.user == user.id)])
    assert tags == [str(0x04A21B3C)]
    table = await (await client.get("/provisioning/?q=eva")).get_data(as_text=True)
    assert str(0x04A21B3C) in table


async def test_duplicates_and_bad_input_are_explained_next_to_the_field(
    client: Any, world: World
) -> None:
    await login(client, "admin@example.com")
    cases = [
        ({"email": "ev-user@example.com"}, "email", "already used"),
        ({"email": "not-an-email"}, "email", "is not an e-mail address"),
        ({"rfid": "1001"}, "rfid", "already belongs"),
        ({"rfid": "12ab-zz"}, "rfid", "neither a decimal number nor hexadecimal"),
        ({"rfid": "9" * 21}, "rfid", "longer than 20"),
        ({"password": ""}, "password", "no default passwords"),
        ({"password": "lettersonly"}, "password", "mix letters and digits"),
        ({"role": "site-admin", "site_id": ""}, "site_id", "needs a site"),
    ]
    for fields, field, text in cases:
        response = await _create(client, **fields)
        html = await response.get_data(as_text=True)
        assert response.status_code == 400, fields
        assert f'id="{field}-error"' in html, fields
        assert text in html, (fields, text)
        assert 'aria-invalid="true"' in html


async def test_every_bad_field_is_explained_at_once_not_one_per_submit(
    client: Any, store: Store, world: World
) -> None:
    await login(client, "admin@example.com")
    response = await _create(
        client, email="ev-user@example.com", password="short", rfid="0xZZ", last_name="L" * 65
    )
    html = await response.get_data(as_text=True)
    assert response.status_code == 400
    for field in ("email", "password", "rfid", "last_name"):
        assert f'id="{field}-error"' in html, field
    assert "Ev-user@example.com is already used by another account." in html
    edit = await post(
        client,
        f"/provisioning/users/{world.users['support']}/edit",
        {**EV, "role": "support", "email": "admin@example.com", "password": "", "first_name": ""},
    )
    assert edit.status_code == 400
    assert 'id="email-error"' in await edit.get_data(as_text=True)
    assert (
        await store.read(lambda: User.select().where(User.email == "Eva@Example.com").count()) == 0
    )


async def test_email_at_alarm_and_site_follow_the_role(
    client: Any, store: Store, world: World
) -> None:
    await login(client, "admin@example.com")
    fields = {"role": "site-admin", "email": "boss@example.com", "site_id": str(world.kista)}
    response = await _create(client, **fields, email_at_alarm="on", rfid="555")
    assert response.status_code == 302
    boss = await store.read(lambda: User.get(User.email == "boss@example.com"))
    assert boss.role == "site-admin"
    assert boss.site_id == world.kista
    assert boss.email_at_alarm is True
    assert await store.read(lambda: IdTag.select().where(IdTag.id_tag == "555").count()) == 0
    support = await _create(client, role="support", email="help@example.com", email_at_alarm="on")
    assert support.status_code == 302
    helper = await store.read(lambda: User.get(User.email == "help@example.com"))
    assert helper.email_at_alarm is False
    assert helper.site_id is None


async def test_deleting_a_user_keeps_his_sessions_under_his_email(
    client: Any, store: Store, world: World
) -> None:
    await login(client, "admin@example.com")
    ev_id = world.users["ev-user"]
    await store.write(
        lambda: (
            ChargingSession.update(user_email="")
            .where(ChargingSession.id == world.ev_session)
            .execute()
        )
    )
    response = await post(client, f"/provisioning/users/{ev_id}/delete")
    assert response.status_code == 302
    session = await store.read(lambda: ChargingSession.get_by_id(world.ev_session))
    assert session.user_email == "ev-user@example.com"
    assert session.user_id is None
    assert await store.read(lambda: IdTag.select().where(IdTag.id_tag == "1001").count()) == 0
    page = await client.get(f"/api/v1/sessions/{world.ev_session}")
    assert (await page.get_json())["email"] == "ev-user@example.com"


async def test_an_admin_cannot_delete_himself(client: Any, store: Store, world: World) -> None:
    await login(client, "admin@example.com")
    await post(client, f"/provisioning/users/{world.users['admin']}/delete")
    assert await store.read(lambda: User.select().where(User.role == "admin").count()) == 1


async def test_editing_keeps_the_password_unless_a_new_one_is_given(
    app: Any, client: Any, store: Store, world: World
) -> None:
    await login(client, "admin@example.com")
    ev_id = world.users["ev-user"]
    form = {**EV, "email": "ev-user@example.com", "rfid": "1001", "password": ""}
    response = await post(client, f"/provisioning/users/{ev_id}/edit", form)
    assert response.status_code == 302
    other = app.test_client()
    assert (await login(other, "ev-user@example.com")).status_code == 302
    renamed = await store.read(lambda: User.get_by_id(ev_id))
    assert renamed.first_name == "Eva"


async def test_a_site_administrator_sees_his_sites_users_without_edit_actions(
    client: Any, world: World
) -> None:
    await login(client, "site-admin@example.com")
    html = await (await client.get("/provisioning/")).get_data(as_text=True)
    assert "ev-user@example.com" in html
    assert "other-site-admin@example.com" not in html
    assert "admin@example.com</td>" not in html.replace("site-admin@example.com</td>", "")
    assert 'data-testid="add-user"' not in html
    assert "/delete" not in html


async def test_a_site_node_scopes_the_users_table_to_that_site(client: Any, world: World) -> None:
    await login(client, "admin@example.com")
    html = await (await client.get(f"/provisioning/?node=site:{world.kista}")).get_data(
        as_text=True
    )
    table = html.split("<tbody>")[1]
    assert "other-site-admin@example.com" in table
    assert "ev-user@example.com" not in table


async def test_an_admin_blocks_a_badge_and_sets_its_expiry(
    client: Any, store: Store, world: World
) -> None:
    await login(client, "admin@example.com")
    added = await post(client, "/provisioning/tags", {"id_tag": "0x2A", "status": "Accepted"})
    assert added.status_code == 302
    assert await store.read(lambda: IdTag.get_or_none(IdTag.id_tag == "0x2A")) is not None
    twice = await post(client, "/provisioning/tags", {"id_tag": "0x2A"})
    assert twice.status_code == 400
    assert 'id="id_tag-error"' in await twice.get_data(as_text=True)
    odd = await post(client, "/provisioning/tags", {"id_tag": "43", "status": "Lost"})
    assert odd.status_code == 400  # and the page says why, next to the status
    assert 'id="status-error"' in await odd.get_data(as_text=True)
    changed = await post(
        client,
        "/provisioning/tags/1001/edit",
        {"status": "Blocked", "expiry": "2030-06-01T12:00", "note": "lost"},
    )
    assert changed.status_code == 302
    tag = await store.read(lambda: IdTag.get(IdTag.id_tag == "1001"))
    assert (tag.status, tag.note) == ("Blocked", "lost")
    assert tag.expiry_date.isoformat() == "2030-06-01T12:00:00"
    page = await (await client.get("/provisioning/tags?status=Blocked")).get_data(as_text=True)
    assert 'data-tag="1001"' in page
    assert 'data-tag="0x2A"' not in page


async def test_a_site_administrator_sees_his_sites_badges_read_only(
    client: Any, world: World
) -> None:
    await login(client, "other-site-admin@example.com")
    page = await (await client.get("/provisioning/tags")).get_data(as_text=True)
    assert 'data-tag="1001"' not in page  # the EV user belongs to Solna
    await login(client, "site-admin@example.com")
    page = await (await client.get("/provisioning/tags")).get_data(as_text=True)
    assert 'data-tag="1001"' in page
    assert "/edit" not in page


def _charging_users(world: World) -> None:
    """EV users without a site who charged at Solna (recently, long ago), one of Kista."""
    import datetime as dt

    from db.schema.models import utcnow

    def charged(email: str, site: int | None, days_ago: int, at_site: int, cbid: str) -> None:
        user = User.create(email=email, role="ev-user", site=site)
        start = utcnow() - dt.timedelta(days=days_ago)
        ChargingSession.create(
            charge_box_id=cbid,
            site=at_site,
            connector_id=1,
            user=user,
            user_email=email,
            authentication=1,
            start_time=start,
            end_time=start + dt.timedelta(hours=1),
            meter_start=0,
            meter_stop=1000,
            energy_wh=1000,
        )

    charged("visitor@example.com", None, 30, world.solna, "SOLNA-1")
    charged("long-ago@example.com", None, 400, world.solna, "SOLNA-1")
    charged("kista-driver@example.com", world.kista, 10, world.solna, "SOLNA-1")
    charged("kista-only@example.com", None, 10, world.kista, "KISTA-1")


async def test_a_site_administrator_sees_who_charged_at_his_site_read_only(
    client: Any, store: Store, world: World
) -> None:
    await store.write(_charging_users, world)
    await login(client, "site-admin@example.com")
    html = await (await client.get("/provisioning/")).get_data(as_text=True)
    table = html.split("<tbody>")[1]
    assert "ev-user@example.com" in table  # his site's user
    assert 'data-user="visitor@example.com" data-visitor' in table  # charged here lately
    assert "long-ago@example.com" not in table  # more than 12 months ago
    assert "kista-driver@example.com" not in table  # a user of another site, never
    assert "kista-only@example.com" not in table
    assert "Kista" not in html  # not even the other site's name
    assert "/delete" not in html
    found = await (await client.get("/provisioning/?q=visitor")).get_data(as_text=True)
    assert "visitor@example.com" in found.split("<tbody>")[1]
    role = await (await client.get("/provisioning/?role=site-admin")).get_data(as_text=True)
    assert "visitor@example.com" not in role.split("<tbody>")[1]
    await login(client, "other-site-admin@example.com")
    other = await (await client.get("/provisioning/")).get_data(as_text=True)
    assert "kista-only@example.com" in other.split("<tbody>")[1]
    assert "visitor@example.com" not in other
    assert "kista-driver@example.com" in other  # his own site's user


async def test_the_badges_tab_pages_by_50_and_finds_by_rfid_note_or_e_mail(
    client: Any, store: Store, world: World
) -> None:
    """Issue 12, fix 7: not every badge as an inline form; keyset pages; a search."""

    def many() -> None:
        IdTag.insert_many(
            [{"id_tag": str(500_000 + n), "note": "spare" if n == 77 else ""} for n in range(180)]
        ).execute()

    await store.write(many)
    await login(client, "admin@example.com")
    first = await (await client.get("/provisioning/tags")).get_data(as_text=True)
    rows = first.count("<tr data-tag=")
    assert rows == 50
    assert first.count("<form") < 60  # rows are text; one edit form at a time
    assert "181 badges" in first
    assert len(first.encode()) < 60_000
    seen = set()
    page, pages = first, 0
    while True:
        tags = [chunk.split('"')[0] for chunk in page.split('<tr data-tag="')[1:]]
        assert not seen & set(tags)
        seen |= set(tags)
        pages += 1
        if 'data-testid="tags-next"' not in page:
            break
        link = page.split('data-testid="tags-next"')[0].rsplit('href="', 1)[1].split('"')[0]
        page = await (await client.get(link.replace("&amp;", "&"))).get_data(as_text=True)
    assert (len(seen), pages) == (181, 4)
    back = page.split('data-testid="tags-previous"')[0].rsplit('href="', 1)[1].split('"')[0]
    previous = await (await client.get(back.replace("&amp;", "&"))).get_data(as_text=True)
    assert previous.count("<tr data-tag=") == 50
    found = await (await client.get("/provisioning/tags?q=spare")).get_data(as_text=True)
    assert found.count("<tr data-tag=") == 1
    assert 'data-tag="500077"' in found
    mail = await (await client.get("/provisioning/tags?q=ev-user@exa")).get_data(as_text=True)
    assert mail.count("<tr data-tag=") == 1
    assert 'data-tag="1001"' in mail
    edit = await (await client.get("/provisioning/tags?q=1001&edit=1001")).get_data(as_text=True)
    assert 'action="/provisioning/tags/1001/edit"' in edit


async def test_the_api_lists_a_site_administrators_charging_users_too(
    client: Any, store: Store, world: World
) -> None:
    await store.write(_charging_users, world)
    await login(client, "site-admin@example.com")
    listed = await (await client.get("/api/v1/users?limit=100")).get_json()
    seen = {u["email"]: u["chargedHere"] for u in listed["items"]}
    assert seen["visitor@example.com"] is True
    assert seen["ev-user@example.com"] is False
    assert not {"long-ago@example.com", "kista-driver@example.com", "kista-only@example.com"} & set(
        seen
    )
