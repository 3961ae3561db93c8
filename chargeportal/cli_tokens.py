"""``chargeportal token add | list | revoke``: JSON API tokens without a browser."""

from __future__ import annotations

import argparse
from typing import Any

from chargeportal.cli_common import fail, in_transaction
from db.accounts.api_tokens import TOKEN_ROLES, create_token, list_tokens, revoke_token
from db.schema.models import Site

__all__ = ["add_token_commands"]


def cmd_token_add(args: argparse.Namespace) -> None:
    def work() -> tuple[int, str]:
        site_id = None
        if args.site:
            site = Site.get_or_none(Site.name == args.site)
            if site is None:
                fail(f"no site named {args.site!r}")
            site_id = int(site.id)
        expires_at = None
        if args.expires:
            try:
                expires_at = parse_utc(args.expires)
            except ValueError:
                fail(f"--expires {args.expires!r} is not a time like 2027-01-31T12:00Z")
        try:
            return create_token(args.name, args.role, site_id, None, expires_at)
        except ValueError as exc:
            fail(str(exc))

    token_id, secret = in_transaction(args, work)
    print(f"token {token_id} {args.name!r} ({args.role}) added")
    print(f"secret {secret} (shown once: send it as 'Authorization: Bearer <secret>')")


def parse_utc(text: str) -> Any:
    """``2027-01-31T12:00[Z]`` or ``2027-01-31 12:00`` in UTC -> naive UTC datetime."""
    import datetime as dt

    when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when


def _when(value: Any) -> str:
    return value.isoformat(" ", "seconds") if value is not None else "never"


def cmd_token_list(args: argparse.Namespace) -> None:
    def work() -> list[tuple[Any, ...]]:
        names = {s.id: s.name for s in Site.select(Site.id, Site.name)}
        return [
            (
                row.id,
                row.name,
                row.prefix,
                row.role,
                names.get(row.site_id, "-"),
                _when(row.created_at),
                _when(row.last_used_at),
                _when(row.expires_at),
                {"active": "live"}.get(row.state(), row.state()),
            )
            for row in list_tokens()
        ]

    print(
        f"{'ID':>4} {'NAME':<24} {'PREFIX':<13} {'ROLE':<11} {'SITE':<16} "
        f"{'CREATED (UTC)':<20} {'LAST USED (UTC)':<20} {'EXPIRES (UTC)':<20} STATE"
    )
    rows = in_transaction(args, work)
    for token_id, name, prefix, role, site, created, used, expires, state in rows:
        print(
            f"{token_id:>4} {name:<24} {prefix:<13} {role:<11} {site:<16} "
            f"{created:<20} {used:<20} {expires:<20} {state}"
        )


def cmd_token_revoke(args: argparse.Namespace) -> None:
    if not in_transaction(args, lambda: revoke_token(args.id)):
        fail(f"no token {args.id}")
    print(f"token {args.id} revoked: requests with it are refused from now on")


def add_token_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """The ``token`` command group under the main parser."""
    token = sub.add_parser("token", help="JSON API tokens").add_subparsers(
        dest="token_command", required=True, metavar="ACTION"
    )
    add = token.add_parser("add", parents=[common], help="create a token (secret shown once)")
    add.add_argument("--name", required=True, help="who or what uses it")
    add.add_argument("--role", required=True, choices=TOKEN_ROLES)
    add.add_argument("--site", metavar="NAME", help="the site of a site-admin token")
    add.add_argument(
        "--expires", metavar="TIME", help="when it stops working (UTC, e.g. 2027-01-31T12:00)"
    )
    add.set_defaults(func=cmd_token_add)
    token.add_parser("list", parents=[common], help="every token").set_defaults(func=cmd_token_list)
    revoke = token.add_parser("revoke", parents=[common], help="refuse a token from now on")
    revoke.add_argument("id", type=int, metavar="ID")
    revoke.set_defaults(func=cmd_token_revoke)
