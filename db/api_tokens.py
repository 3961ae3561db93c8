"""JSON API tokens: random secrets shown once, stored as SHA-256, scoped to a role and site."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from db.models import ApiToken, Site, utcnow
from db.timezones import iso_utc

__all__ = [
    "TOKEN_ROLES",
    "TokenRow",
    "authenticate_token",
    "create_token",
    "list_tokens",
    "revoke_token",
    "touch_token",
]

#: Roles a token may carry (an EV user's data is reached through his own login).
TOKEN_ROLES = ("admin", "site-admin", "support")
_PREFIX = "cpt_"


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    prefix: str
    role: str
    site_id: int | None
    created_at: Any
    last_used_at: Any
    revoked: bool

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "role": self.role,
            "siteId": self.site_id,
            "createdAt": iso_utc(self.created_at),
            "lastUsedAt": iso_utc(self.last_used_at),
            "revoked": self.revoked,
        }


def _digest(token: str) -> str:
    # Tokens carry 256 random bits: a fast hash is enough (nothing to brute-force).
    return hashlib.sha256(token.encode()).hexdigest()


def _row(t: ApiToken) -> TokenRow:
    return TokenRow(
        t.id, t.name, t.prefix, t.role, t.site_id, t.created_at, t.last_used_at, t.revoked
    )


def create_token(
    name: str, role: str, site_id: int | None, created_by: int | None
) -> tuple[int, str]:
    """A new token: (id, the secret — shown once, never stored in clear)."""
    name = (name or "").strip()
    if not name:
        raise ValueError("a token needs a name")
    if role not in TOKEN_ROLES:
        raise ValueError(f"a token's role is one of {', '.join(TOKEN_ROLES)}")
    if role == "site-admin":
        if not site_id or Site.get_or_none(Site.id == site_id) is None:
            raise ValueError("a site administrator token needs an existing site")
    else:
        site_id = None
    secret = _PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.create(
        name=name[:128],
        token_hash=_digest(secret),
        prefix=secret[:12],
        role=role,
        site=site_id,
        created_by=created_by,
    )
    return int(token.id), secret


def authenticate_token(secret: str) -> TokenRow | None:
    """The live (not revoked) token for ``secret``, or None. Read-only."""
    if not secret.startswith(_PREFIX):
        return None
    token = ApiToken.get_or_none(
        (ApiToken.token_hash == _digest(secret)) & (ApiToken.revoked == False)  # noqa: E712
    )
    return _row(token) if token is not None else None


def touch_token(token_id: int) -> None:
    """Remember when a token was last used (a unit of work for ``Store.write``)."""
    ApiToken.update(last_used_at=utcnow()).where(ApiToken.id == token_id).execute()


def list_tokens() -> list[TokenRow]:
    return [_row(t) for t in ApiToken.select().order_by(ApiToken.created_at.desc())]


def revoke_token(token_id: int) -> bool:
    return bool(ApiToken.update(revoked=True).where(ApiToken.id == token_id).execute())
