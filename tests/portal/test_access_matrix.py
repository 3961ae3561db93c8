"""Every route × every principal → the expected status (tests/portal/access_rows/)."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import pkgutil
from dataclasses import asdict
from typing import Any

import pytest
from quart_auth import authenticated_client

from db import Store
from tests.portal import access_rows
from tests.portal.access_rows import PRINCIPALS, Case
from tests.portal.conftest import World

SKIPPED_RULES = {"/static/<path:filename>"}


def _all_rows() -> dict[tuple[str, str], list[Case]]:
    rows: dict[tuple[str, str], list[Case]] = {}
    for info in pkgutil.iter_modules(access_rows.__path__):
        if info.name.startswith("rows_"):
            module = importlib.import_module(f"{access_rows.__name__}.{info.name}")
            for key, cases in module.ROWS.items():
                assert key not in rows, f"{key} has rows in two modules"
                rows[key] = cases
    return rows


ROWS = _all_rows()


def _routes(app: Any) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule in SKIPPED_RULES:
            continue
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            found.add((method, rule.rule))
    return found


async def test_every_route_has_a_row_in_the_access_matrix(app: Any) -> None:
    routes = _routes(app)
    missing = sorted(routes - set(ROWS))
    assert not missing, f"routes without access-matrix rows: {missing}"
    stale = sorted(set(ROWS) - routes)
    assert not stale, f"rows for routes that do not exist: {stale}"


def _placeholders(world: World) -> dict[str, Any]:
    values: dict[str, Any] = {k: v for k, v in asdict(world).items() if not isinstance(v, dict)}
    for label, user_id in world.users.items():
        values[f"{label.replace('-', '_')}_id"] = user_id
    values["other_admin_id"] = world.users["other-site-admin"]
    return values


def _fill(value: Any, names: dict[str, Any]) -> Any:
    if isinstance(value, str):
        filled = value.format(**names)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


async def _request(app: Any, client: Any, method: str, path: str, body: Any) -> Any:
    raw = "matrix-csrf"
    client.set_cookie("localhost", "cp_csrf", raw)
    token = hmac.new(app.secret_key.encode(), b"csrf:" + raw.encode(), hashlib.sha256).hexdigest()
    headers = {"X-CSRF-Token": token}
    if method == "GET":
        return await client.get(path)
    if path.startswith("/api/"):
        return await client.open(
            path,
            method=method,
            headers=headers,
            data=json.dumps(body or {}),
        )
    return await client.open(path, method=method, headers=headers, form=body or {})


@pytest.mark.parametrize(("method", "rule"), sorted(ROWS), ids=lambda v: str(v))
async def test_access(
    app: Any, client: Any, store: Store, world: World, method: str, rule: str
) -> None:
    app.config["PORTAL_SSE_MAX_SECONDS"] = 0.01
    names = _placeholders(world)
    failures = []
    for case in ROWS[(method, rule)]:
        for principal in PRINCIPALS:
            extra = await store.write(case.setup, world) if case.setup else {}
            path = case.path.format(**names, **extra)
            body = _fill(case.body, {**names, **extra})
            if principal == "anonymous":
                response = await _request(app, client, method, path, body)
            else:
                auth_id = f"{world.users[principal]}:0"
                async with authenticated_client(client, auth_id):
                    response = await _request(app, client, method, path, body)
            if response.status_code != case.expect[principal]:
                text = (await response.get_data(as_text=True))[:120]
                failures.append(
                    f"{method} {path} as {principal}: {response.status_code}, "
                    f"expected {case.expect[principal]} ({text!r})"
                )
    assert not failures, "\n".join(failures)


async def test_every_state_changing_route_refuses_a_request_without_the_csrf_token(
    app: Any, client: Any, store: Store, world: World
) -> None:
    """Logged in as an administrator (who may do everything), but no CSRF token: 400."""
    names = _placeholders(world)
    exempt = tuple(app.config["PORTAL_CSRF_EXEMPT_PREFIXES"])
    accepted = []
    async with authenticated_client(client, f"{world.users['admin']}:0"):
        for (method, rule), cases in sorted(ROWS.items()):
            if method == "GET" or rule.startswith(exempt):
                continue
            case = cases[0]
            extra = await store.write(case.setup, world) if case.setup else {}
            path = case.path.format(**names, **extra)
            response = await client.open(path, method=method, form=_fill(case.body, names) or {})
            text = await response.get_data(as_text=True)
            if response.status_code != 400 or "form has expired" not in text:
                accepted.append(f"{method} {path}: {response.status_code} {text[:80]!r}")
    assert not accepted, "\n".join(accepted)
