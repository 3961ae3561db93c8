"""Login, logout, throttling, CSRF and cookie flags."""

from __future__ import annotations

from typing import Any

from tests.portal.conftest import PASSWORD, World, csrf_of, login, post


async def test_login_leads_to_the_dashboard_and_logout_ends_the_session(
    client: Any, world: World
) -> None:
    response = await login(client, "admin@example.com")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboard")
    page = await client.get("/dashboard/")
    html = await page.get_data(as_text=True)
    assert page.status_code == 200
    assert "admin@example.com" in html
    assert 'data-testid="logout"' in html
    await post(client, "/logout")
    again = await client.get("/dashboard/")
    assert again.status_code == 302
    assert "/login" in again.headers["Location"]


async def test_wrong_password_is_refused_without_telling_which_part_was_wrong(
    client: Any, world: World
) -> None:
    wrong = await login(client, "admin@example.com", "Wrong1234")
    unknown = await login(client, "nobody@example.com", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong e-mail or password" in await wrong.get_data(as_text=True)
    assert "Wrong e-mail or password" in await unknown.get_data(as_text=True)


async def test_failed_logins_are_throttled_per_account(client: Any, world: World) -> None:
    for _ in range(5):
        assert (await login(client, "support@example.com", "Wrong1234")).status_code == 401
    blocked = await login(client, "support@example.com", PASSWORD)
    assert blocked.status_code == 429
    assert "Too many failed logins" in await blocked.get_data(as_text=True)
    assert int(blocked.headers["Retry-After"]) > 0
    # another account from the same address is not locked by these five
    assert (await login(client, "admin@example.com")).status_code == 302


async def test_a_post_without_the_csrf_token_is_refused(client: Any, world: World) -> None:
    await csrf_of(client)
    response = await client.post(
        "/login", form={"email": "admin@example.com", "password": PASSWORD}
    )
    assert response.status_code == 400
    await login(client, "admin@example.com")
    forged = await client.post("/logout", form={"csrf_token": "0" * 64})
    assert forged.status_code == 400


async def test_session_cookie_is_httponly_samesite_and_not_secure_over_http(
    client: Any, world: World
) -> None:
    response = await login(client, "admin@example.com")
    cookies = response.headers.get_all("Set-Cookie")
    session = next(c for c in cookies if c.startswith("cp_session="))
    assert "HttpOnly" in session
    assert "SameSite=Lax" in session
    assert "Secure" not in session


async def test_session_cookie_is_secure_over_https(client: Any, world: World) -> None:
    page = await client.get("/login", scheme="https")
    token = (await page.get_data(as_text=True)).split('name="csrf_token" value="')[1][:64]
    response = await client.post(
        "/login",
        form={"email": "admin@example.com", "password": PASSWORD, "csrf_token": token},
        scheme="https",
    )
    assert response.status_code == 302
    session = next(c for c in response.headers.get_all("Set-Cookie") if "cp_session=" in c)
    assert "Secure" in session


async def test_changing_the_password_ends_other_sessions(
    app: Any, client: Any, world: World
) -> None:
    await login(client, "ev-user@example.com")
    other = app.test_client()
    await login(other, "ev-user@example.com")
    changed = await post(
        client,
        "/settings/password",
        {"old_password": PASSWORD, "new_password": "Newpass123", "new_password2": "Newpass123"},
    )
    assert changed.status_code == 302
    assert (await client.get("/settings/")).status_code == 200
    assert (await other.get("/settings/")).status_code == 302


async def test_a_weak_new_password_is_refused_next_to_the_field(client: Any, world: World) -> None:
    await login(client, "ev-user@example.com")
    response = await post(
        client,
        "/settings/password",
        {"old_password": PASSWORD, "new_password": "short", "new_password2": "short"},
    )
    html = await response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="new_password-error"' in html
    assert "at least 8 characters" in html


async def test_a_copied_session_cookie_stops_working_after_logout(
    app: Any, client: Any, world: World
) -> None:
    response = await login(client, "admin@example.com")
    cookie = next(
        c.split(";")[0].split("=", 1)[1]
        for c in response.headers.get_all("Set-Cookie")
        if c.startswith("cp_session=")
    )
    thief = app.test_client()
    thief.set_cookie("localhost", "cp_session", cookie)
    assert (await thief.get("/settings/")).status_code == 200
    await post(client, "/logout")
    assert (await thief.get("/settings/")).status_code == 302


def test_the_throttle_counts_per_address_and_forgets_after_the_window() -> None:
    from portal.security import LoginThrottle

    now = [0.0]
    throttle = LoginThrottle(per_account=3, per_address=5, window=60, clock=lambda: now[0])
    for i in range(5):  # five different accounts from one address
        assert throttle.retry_after(f"user{i}@example.com", "10.0.0.1") == 0
        throttle.failed(f"user{i}@example.com", "10.0.0.1")
    assert throttle.retry_after("someone@example.com", "10.0.0.1") == 60
    assert throttle.retry_after("someone@example.com", "10.0.0.2") == 0
    now[0] = 30.0
    assert throttle.retry_after("someone@example.com", "10.0.0.1") == 30
    now[0] = 60.5
    assert throttle.retry_after("someone@example.com", "10.0.0.1") == 0
    assert throttle.statistics()["blocked_attempts"] == 2
