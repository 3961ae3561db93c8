"""Where login sends you next: only to a page of this portal, however the target is
spelled (issue 11 point 8: ``next=/\\evil.example`` used to pass)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

import pytest

from tests.portal.conftest import PASSWORD, World, csrf_of, login

PORTAL = "https://portal.example/"

#: Targets a browser would follow to another host (or that hide such a target).
HOSTILE = [
    "/\\evil.example",
    "\\/evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "//evil.example",
    "///evil.example",
    "//evil.example/dashboard/",
    "https://evil.example/",
    "http:evil.example",
    "https:/evil.example",
    "javascript:alert(1)",
    "evil.example",
    " //evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    "/\x00/evil.example",
    "/ /evil.example",
    "/%5Cevil.example",
    "/%5cevil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "%2F%2Fevil.example",
    "/%09/evil.example",
    "/%0d%0aLocation:%20//evil.example",
    "/%252F%252Fevil.example",
    "/%25252F%25252Fevil.example",
    "/%2525252F%2525252Fevil.example",
    "/dashboard/%0aSet-Cookie:x=1",
    "/\u2028/evil.example",
    "/\u200b/evil.example",
    "/login?next=//evil.example",
]

#: Ordinary pages keep working.
LOCAL = [
    "/alarms/",
    "/provisioning/?role=admin&q=a%20b",
    "/dashboard/?node=site:1",
]


def _lands_on(location: str) -> str:
    """Where a browser goes: backslashes count as slashes, tabs/newlines are dropped."""
    cleaned = location.replace("\\", "/").replace("\t", "").replace("\n", "").replace("\r", "")
    return urlsplit(urljoin(PORTAL, cleaned.strip())).netloc


@pytest.mark.parametrize("target", HOSTILE)
async def test_login_form_never_redirects_to_another_site(
    client: Any, world: World, target: str
) -> None:
    token = await csrf_of(client)
    response = await client.post(
        "/login",
        form={
            "email": "admin@example.com",
            "password": PASSWORD,
            "csrf_token": token,
            "next": target,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"
    assert _lands_on(response.headers["Location"]) == "portal.example"


@pytest.mark.parametrize("target", HOSTILE)
async def test_a_logged_in_visit_to_login_never_redirects_to_another_site(
    client: Any, world: World, target: str
) -> None:
    await login(client, "admin@example.com")
    response = await client.get("/login?next=" + quote(target, safe=""))
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"


@pytest.mark.parametrize("target", LOCAL)
async def test_login_goes_on_to_the_page_asked_for(client: Any, world: World, target: str) -> None:
    token = await csrf_of(client)
    response = await client.post(
        "/login",
        form={
            "email": "admin@example.com",
            "password": PASSWORD,
            "csrf_token": token,
            "next": target,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == target
    again = await client.get("/login?next=" + quote(target, safe=""))
    assert again.headers["Location"] == target


async def test_the_login_link_of_a_protected_page_brings_you_back_there(
    client: Any, world: World
) -> None:
    first = await client.get("/alarms/?node=site:1")
    assert first.status_code == 302
    login_url = first.headers["Location"]
    target = dict(pair.split("=", 1) for pair in urlsplit(login_url).query.split("&"))["next"]
    token = await csrf_of(client)
    response = await client.post(
        "/login",
        form={
            "email": "admin@example.com",
            "password": PASSWORD,
            "csrf_token": token,
            "next": unquote(target),
        },
    )
    assert response.headers["Location"] == "/alarms/?node=site:1"
