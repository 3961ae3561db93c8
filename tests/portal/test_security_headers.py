"""Headers that keep browsers honest: HSTS over TLS, nothing of the API kept in a cache
(issue 11 point 9)."""

from __future__ import annotations

from typing import Any

from tests.portal.conftest import World, login
from tests.portal.test_api import _admin_token


async def test_over_tls_every_answer_asks_for_https_from_now_on(client: Any, world: World) -> None:
    page = await client.get("/login", scheme="https")
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    api = await client.get("/api/v1/me", scheme="https")
    assert api.status_code == 401
    assert "max-age=" in api.headers["Strict-Transport-Security"]


async def test_over_plain_http_no_hsts_is_sent(client: Any, world: World) -> None:
    page = await client.get("/login")
    assert "Strict-Transport-Security" not in page.headers


async def test_hsts_can_be_switched_off(app: Any, client: Any, world: World) -> None:
    app.config["PORTAL_HSTS_SECONDS"] = 0
    page = await client.get("/login", scheme="https")
    assert "Strict-Transport-Security" not in page.headers


async def test_no_api_answer_may_be_cached(app: Any, client: Any, world: World) -> None:
    secret = await _admin_token(client)
    bare = app.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    answers = {
        "token": await bare.get("/api/v1/me", headers=bearer),
        "list": await bare.get("/api/v1/stations", headers=bearer),
        "not found": await bare.get("/api/v1/stations/NOPE", headers=bearer),
        "bad token": await bare.get("/api/v1/me", headers={"Authorization": "Bearer cpt_x"}),
        "anonymous": await bare.get("/api/v1/me"),
        "openapi": await bare.get("/api/v1/openapi.json"),
    }
    await login(client, "admin@example.com")
    answers["session"] = await client.get("/api/v1/users")
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {
        "token": 200,
        "list": 200,
        "not found": 404,
        "bad token": 401,
        "anonymous": 401,
        "openapi": 200,
        "session": 200,
    }
    caching = {name: answer.headers.get("Cache-Control") for name, answer in answers.items()}
    assert caching == dict.fromkeys(answers, "no-store")
