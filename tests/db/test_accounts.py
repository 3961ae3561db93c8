"""Account rules in db.accounts.accounts: e-mail and RFID normalisation, uniqueness, deletion."""

from __future__ import annotations

import pytest

from db import Store
from db.accounts.accounts import (
    DuplicateEmailError,
    DuplicateRfidError,
    InvalidFieldError,
    create_user,
    delete_user,
    get_user_by_email,
    list_users,
    normalise_email,
    normalise_rfid,
    same_email,
    update_user,
)
from db.schema.models import ChargingSession, IdTag, Site, User, utcnow


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("3735928559", "3735928559"),
        ("  0012345 ", "0012345"),  # decimal kept as typed: readers may send the zeros
        ("0xDEADBEEF", "3735928559"),
        ("deadbeef", "3735928559"),
        ("DE:AD:BE:EF", "3735928559"),
        ("de-ad-be-ef", "3735928559"),
        ("04 A2 1B 3C", str(0x04A21B3C)),
        ("", ""),
    ],
)
def test_rfid_is_stored_in_decimal(typed: str, stored: str) -> None:
    assert normalise_rfid(typed) == stored


@pytest.mark.parametrize("typed", ["12-zz", "0x", "badge one", "1" * 21, "0x" + "F" * 20])
def test_an_unreadable_or_too_long_rfid_is_refused(typed: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        normalise_rfid(typed)
    assert caught.value.field == "rfid"


def test_email_is_trimmed_and_keeps_the_case_it_was_typed_in() -> None:
    assert normalise_email("  Eva@Example.COM ") == "Eva@Example.COM"
    with pytest.raises(InvalidFieldError):
        normalise_email("eva@example")


def _ev(email: str, rfid: str = "") -> dict:
    return {"email": email, "role": "ev-user", "rfid": rfid, "password_hash": "x"}


async def test_email_whatever_its_spelling_and_rfid_exactly_are_unique(store: Store) -> None:
    await store.write(create_user, _ev("eva@example.com", "0xFF"))
    with pytest.raises(DuplicateEmailError):
        await store.write(create_user, _ev("EVA@example.com"))
    with pytest.raises(DuplicateRfidError):
        await store.write(create_user, _ev("bob@example.com", "0xFF"))
    # an idTag is stored as given: 255 is another badge than 0xFF
    await store.write(create_user, _ev("bob@example.com", "255"))
    assert await store.read(lambda: User.select().count()) == 2


def _login_query_plan(email: str) -> str:
    """SQLite's plan of the query that finds a user by e-mail at login."""
    sql, params = User.select().where(same_email(email)).sql()
    rows = User._meta.database.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    return " | ".join(str(row[-1]) for row in rows)


async def test_login_finds_an_address_in_any_case_through_its_index(store: Store) -> None:
    await store.write(create_user, _ev("Anna.Berg@Example.com"))
    await store.write(create_user, _ev("erik@example.com"))
    for typed in ("anna.berg@example.com", "ANNA.BERG@EXAMPLE.COM", " Anna.Berg@example.COM "):
        found = await store.read(get_user_by_email, typed)
        assert found is not None, typed
        assert found.email == "Anna.Berg@Example.com"  # as it was typed in
    assert await store.read(get_user_by_email, "anna.berg@example.org") is None
    plan = await store.read(_login_query_plan, "ANNA.BERG@example.com")
    assert "USING INDEX user_email_lower" in plan, plan  # not a scan of the users table


async def test_a_site_administrator_needs_an_existing_site(store: Store) -> None:
    data = {"email": "boss@example.com", "role": "site-admin", "password_hash": "x"}
    with pytest.raises(InvalidFieldError) as caught:
        await store.write(create_user, data)
    assert caught.value.field == "site_id"
    with pytest.raises(InvalidFieldError):
        await store.write(create_user, {**data, "site_id": 99})


async def test_changing_the_rfid_replaces_the_badge_and_a_new_password_ends_sessions(
    store: Store,
) -> None:
    user_id = await store.write(create_user, _ev("eva@example.com", "100"))
    await store.write(update_user, user_id, {"rfid": "200", "password_hash": "y"})
    tags = await store.read(lambda: [t.id_tag for t in IdTag.select()])
    assert tags == ["200"]
    user = await store.read(lambda: User.get_by_id(user_id))
    assert user.auth_version == 1


async def test_deleting_a_user_keeps_his_sessions_with_his_email(store: Store) -> None:
    def setup() -> tuple[int, int]:
        site = Site.create(name="Solna")
        user_id = create_user({**_ev("eva@example.com", "100"), "site_id": site.id})
        session = ChargingSession.create(
            charge_box_id="CP1",
            connector_id=1,
            id_tag="100",
            user=user_id,
            start_time=utcnow(),
            meter_start=0,
        )
        return user_id, session.id

    user_id, session_id = await store.write(setup)
    assert await store.write(delete_user, user_id) is True
    session = await store.read(lambda: ChargingSession.get_by_id(session_id))
    assert session.user_id is None
    assert session.user_email == "eva@example.com"
    assert await store.read(lambda: IdTag.select().count()) == 0
    _, total = await store.read(lambda: list_users(None))
    assert total == 0
