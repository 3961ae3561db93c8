"""``chargeportal token``: API tokens for scripts and integrators, without a browser."""

from __future__ import annotations

import pytest

from db import open_database
from db.accounts.api_tokens import authenticate_token
from tests.chargeportal.test_cli import run


def secret_of(out: str) -> str:
    line = next(line for line in out.splitlines() if line.startswith("secret "))
    return line.split()[1]


def test_a_token_added_on_the_command_line_opens_the_api_until_revoked(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    assert run(capsys, db_url, "init-db")[0] == 0
    status, out, _ = run(capsys, db_url, "token", "add", "--role", "support", "--name", "billing")
    assert status == 0
    secret = secret_of(out)
    open_database(db_url)
    live = authenticate_token(secret)
    assert live is not None
    assert (live.name, live.role) == ("billing", "support")
    status, listing, _ = run(capsys, db_url, "token", "list")
    assert status == 0
    row = next(line for line in listing.splitlines() if "billing" in line)
    assert secret[:12] in row
    assert secret not in listing  # the secret is shown once, at creation
    assert row.endswith("live")
    assert run(capsys, db_url, "token", "revoke", str(live.id))[0] == 0
    open_database(db_url)
    assert authenticate_token(secret) is None
    assert run(capsys, db_url, "token", "list")[1].splitlines()[1].endswith("revoked")


def test_a_site_admin_token_is_bound_to_an_existing_site(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    assert run(capsys, db_url, "init-db", "--demo")[0] == 0
    status, _, err = run(capsys, db_url, "token", "add", "--role", "site-admin", "--name", "x")
    assert status == 2
    assert "needs an existing site" in err
    status, _, err = run(
        capsys, db_url, "token", "add", "--role", "site-admin", "--name", "x", "--site", "Nowhere"
    )
    assert (status, err.strip()) == (2, "chargeportal: error: no site named 'Nowhere'")


def test_revoking_an_unknown_token_says_so(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    assert run(capsys, db_url, "init-db")[0] == 0
    status, _, err = run(capsys, db_url, "token", "revoke", "99")
    assert (status, err.strip()) == (2, "chargeportal: error: no token 99")


def test_a_token_added_with_an_expiry_lists_it_and_refuses_a_past_one(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    assert run(capsys, db_url, "init-db")[0] == 0
    added = run(
        capsys,
        db_url,
        "token",
        "add",
        "--name",
        "ci",
        "--role",
        "support",
        "--expires",
        "2099-01-31T12:00Z",
    )
    assert added[0] == 0
    row = run(capsys, db_url, "token", "list")[1].splitlines()[1]
    assert "2099-01-31 12:00:00" in row
    assert row.endswith("live")
    status, _, err = run(
        capsys,
        db_url,
        "token",
        "add",
        "--name",
        "old",
        "--role",
        "support",
        "--expires",
        "2001-01-01T00:00",
    )
    assert (status, err.strip()) == (
        2,
        "chargeportal: error: a token's expiry must lie in the future",
    )
