"""The access-control matrix, one ``rows_<module>.py`` per portal module.

Each module defines ``ROWS: dict[tuple[str, str], list[Case]]`` keyed by (HTTP method,
the route's rule exactly as in ``app.url_map``, e.g. ``/provisioning/users/<int:user_id>/edit``).
A ``Case`` gives a concrete path (``{placeholders}`` from ``World`` fields and from the
case's ``setup``), an optional body, and the expected status for every principal:
``anonymous``, ``ev-user``, ``support``, ``other-site-admin`` (site administrator of
Kista: Solna's things must answer 404 to him), ``site-admin`` (Solna), ``admin``.
Requests carry a valid CSRF token, so an allowed role reaches the view: send a body
the view refuses (400) rather than one that changes things, or use ``setup`` to make
a fresh object per principal for deletes. A route without a row fails the test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PRINCIPALS = ("anonymous", "ev-user", "support", "other-site-admin", "site-admin", "admin")


@dataclass
class Case:
    path: str
    expect: dict[str, int]
    body: dict[str, Any] | None = None  # JSON for /api, form fields for pages
    setup: Callable[[Any], dict[str, Any]] | None = None  # sync, (World) -> placeholders
    note: str = ""


def expect(
    anonymous: int, ev_user: int, support: int, other: int, site_admin: int, admin: int
) -> dict[str, int]:
    """Expected statuses in PRINCIPALS order."""
    values = (anonymous, ev_user, support, other, site_admin, admin)
    return dict(zip(PRINCIPALS, values, strict=True))


def same(anonymous: int, everyone: int) -> dict[str, int]:
    return expect(anonymous, everyone, everyone, everyone, everyone, everyone)


@dataclass
class Table:
    rows: dict[tuple[str, str], list[Case]] = field(default_factory=dict)
