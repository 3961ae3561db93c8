"""Behind TLS the session cookie is Secure (served by hypercorn with a certificate)."""

from __future__ import annotations

import re
import ssl
from typing import Any

import httpx
import trio

from portal import serve_portal
from tests.portal.conftest import PASSWORD, World


async def test_over_tls_the_session_cookie_is_secure(
    app: Any, world: World, certificate: tuple[str, str], nursery: trio.Nursery
) -> None:
    cert, key = certificate
    port = await nursery.start(
        lambda task_status: serve_portal(
            app, "127.0.0.1", 0, certfile=cert, keyfile=key, task_status=task_status
        )
    )

    def log_in() -> list[str]:
        with httpx.Client(
            base_url=f"https://127.0.0.1:{port}", verify=ssl.create_default_context(cafile=cert)
        ) as client:
            page = client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token
            answer = client.post(
                "/login",
                data={
                    "email": "admin@example.com",
                    "password": PASSWORD,
                    "csrf_token": token.group(1),
                },
            )
            assert answer.status_code == 302
            return answer.headers.get_list("set-cookie")

    with trio.fail_after(30):
        cookies = await trio.to_thread.run_sync(log_in)
    session = next(c for c in cookies if c.startswith("cp_session="))
    assert "Secure" in session
    assert "HttpOnly" in session


async def test_over_tls_the_portal_sends_hsts(
    app: Any, world: World, certificate: tuple[str, str], nursery: trio.Nursery
) -> None:
    cert, key = certificate
    port = await nursery.start(
        lambda task_status: serve_portal(
            app, "127.0.0.1", 0, certfile=cert, keyfile=key, task_status=task_status
        )
    )

    def fetch() -> httpx.Response:
        context = ssl.create_default_context(cafile=cert)
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=context) as client:
            return client.get("/api/v1/me")

    with trio.fail_after(30):
        answer = await trio.to_thread.run_sync(fetch)
    assert answer.status_code == 401
    assert answer.headers["strict-transport-security"] == "max-age=31536000"
    assert answer.headers["cache-control"] == "no-store"
