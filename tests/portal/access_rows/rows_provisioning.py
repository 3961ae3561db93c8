"""Provisioning pages: administrators provision; site administrators see their site's users."""

from __future__ import annotations

from typing import Any

from db.accounts.api_tokens import create_token
from db.schema.models import User
from tests.portal.access_rows import Case, expect

ADMIN_ONLY_GET = expect(302, 403, 403, 403, 403, 200)
ADMIN_ONLY_POST = expect(401, 403, 403, 403, 403, 400)


def _victim(world: Any) -> dict[str, Any]:
    count = User.select().count()
    user = User.create(email=f"victim{count}@example.com", role="ev-user", site=world.solna)
    return {"victim": user.id}


def _tag(world: Any) -> dict[str, Any]:
    from db.schema.models import IdTag

    return {"tmp_tag": IdTag.create(id_tag=f"7{IdTag.select().count():05d}").id_tag}


def _token(world: Any) -> dict[str, Any]:
    token_id, _ = create_token("rig", "support", None, None)
    return {"token_id": token_id}


ROWS = {
    ("GET", "/provisioning/"): [Case("/provisioning/", expect(302, 403, 403, 200, 200, 200))],
    ("GET", "/provisioning/users/new"): [Case("/provisioning/users/new", ADMIN_ONLY_GET)],
    ("POST", "/provisioning/users/new"): [
        Case("/provisioning/users/new", ADMIN_ONLY_POST, body={"role": "ev-user"})
    ],
    ("GET", "/provisioning/users/<int:user_id>/edit"): [
        Case("/provisioning/users/{ev_user_id}/edit", ADMIN_ONLY_GET),
        Case("/provisioning/users/999/edit", expect(302, 403, 403, 403, 403, 404)),
    ],
    ("POST", "/provisioning/users/<int:user_id>/edit"): [
        Case("/provisioning/users/{ev_user_id}/edit", ADMIN_ONLY_POST, body={"email": "bad"})
    ],
    ("POST", "/provisioning/users/<int:user_id>/delete"): [
        Case(
            "/provisioning/users/{victim}/delete",
            expect(401, 403, 403, 403, 403, 302),
            setup=_victim,
        )
    ],
    ("GET", "/provisioning/tokens"): [Case("/provisioning/tokens", ADMIN_ONLY_GET)],
    ("POST", "/provisioning/tokens"): [
        Case("/provisioning/tokens", ADMIN_ONLY_POST, body={"name": ""})
    ],
    ("POST", "/provisioning/tokens/<int:token_id>/revoke"): [
        Case(
            "/provisioning/tokens/{token_id}/revoke",
            expect(401, 403, 403, 403, 403, 302),
            setup=_token,
        )
    ],
    ("GET", "/provisioning/tags"): [
        Case("/provisioning/tags", expect(302, 403, 403, 200, 200, 200))
    ],
    ("POST", "/provisioning/tags"): [
        Case("/provisioning/tags", ADMIN_ONLY_POST, body={"id_tag": ""})
    ],
    ("POST", "/provisioning/tags/<id_tag>/edit"): [
        Case("/provisioning/tags/1001/edit", ADMIN_ONLY_POST, body={"status": "Bogus"}),
        Case("/provisioning/tags/404404/edit", expect(401, 403, 403, 403, 403, 404), body={}),
    ],
    ("POST", "/provisioning/tags/<id_tag>/delete"): [
        Case(
            "/provisioning/tags/{tmp_tag}/delete",
            expect(401, 403, 403, 403, 403, 302),
            setup=_tag,
        )
    ],
}
