"""JSON API tokens: random secrets shown once, stored as SHA-256, scoped to a role and site,
optionally expiring, and alive only while the administrator who made them is one."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from peewee import JOIN

from db.errors import Invalid
from db.schema.models import ApiToken, Site, User, utcnow
from db.system.timezones import iso_utc

__all__ = [
    "TOKEN_ROLES",
    "TokenRow",
    "authenticate_token",
    "create_token",
    "get_token",
    "list_tokens",
    "revoke_token",
    "revoke_tokens_of",
    "touch_token",
]

#: Roles a token may carry (an EV user's data is reached through his own login).
TOKEN_ROLES = ("admin", "site-admin", "support")
#: Only an administrator makes tokens; a token works only while its maker still is one.
MAKER_ROLE = "admin"
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
    expires_at: Any = None
    created_by: int | None = None
    creator_email: str = ""
    creator_role: str = ""  # "" when made without an account (scripts, tests)

    def state(self, now: dt.datetime | None = None) -> str:
        """``active``, ``revoked``, ``expired`` or ``disabled`` (its maker is no longer an
        administrator: the account was demoted or removed)."""
        if self.revoked:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or utcnow()):
            return "expired"
        if self.created_by is not None and self.creator_role != MAKER_ROLE:
            return "disabled"
        return "active"

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "role": self.role,
            "siteId": self.site_id,
            "createdAt": iso_utc(self.created_at),
            "createdBy": self.creator_email or None,
            "lastUsedAt": iso_utc(self.last_used_at),
            "expiresAt": iso_utc(self.expires_at),
            "revoked": self.revoked,
            "state": self.state(),
        }


def _digest(token: str) -> str:
    # Tokens carry 256 random bits: a fast hash is enough (nothing to brute-force).
    return hashlib.sha256(token.encode()).hexdigest()


def _query() -> Any:
    """Tokens with their maker's e-mail and current role (None when made without one)."""
    return (
        ApiToken.select(
            ApiToken,
            User.email.alias("creator_email"),
            User.role.alias("creator_role"),
        )
        .join(User, join_type=JOIN.LEFT_OUTER, on=(ApiToken.created_by == User.id))
        .objects()
    )


def _row(t: Any) -> TokenRow:
    return TokenRow(
        t.id,
        t.name,
        t.prefix,
        t.role,
        t.site_id,
        t.created_at,
        t.last_used_at,
        t.revoked,
        t.expires_at,
        t.created_by_id,
        getattr(t, "creator_email", None) or "",
        getattr(t, "creator_role", None) or "",
    )


def create_token(
    name: str,
    role: str,
    site_id: int | None,
    created_by: int | None,
    expires_at: dt.datetime | None = None,
) -> tuple[int, str]:
    """A new token: (id, the secret — shown once, never stored in clear). ``expires_at``
    (naive UTC, None = never) must lie in the future. Refusals: ``Invalid`` (a
    ValueError) naming the field."""
    name = (name or "").strip()
    if not name:
        raise Invalid("a token needs a name", field="name")
    if role not in TOKEN_ROLES:
        raise Invalid(f"a token's role is one of {', '.join(TOKEN_ROLES)}", field="role")
    if role == "site-admin":
        if not site_id or Site.get_or_none(Site.id == site_id) is None:
            raise Invalid("a site administrator token needs an existing site", field="site_id")
    else:
        site_id = None
    if expires_at is not None and expires_at <= utcnow():
        raise Invalid("a token's expiry must lie in the future", field="expires_at")
    secret = _PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.create(
        name=name[:128],
        token_hash=_digest(secret),
        prefix=secret[:12],
        role=role,
        site=site_id,
        created_by=created_by,
        expires_at=expires_at,
    )
    return int(token.id), secret


def authenticate_token(secret: str) -> TokenRow | None:
    """The live token for ``secret`` (not revoked, not expired, its maker still an
    administrator), or None. Read-only."""
    if not secret.startswith(_PREFIX):
        return None
    token = _query().where(ApiToken.token_hash == _digest(secret)).first()
    if token is None:
        return None
    row = _row(token)
    return row if row.state() == "active" else None


def touch_token(token_id: int) -> None:
    """Remember when a token was last used (a unit of work for ``Store.write``)."""
    ApiToken.update(last_used_at=utcnow()).where(ApiToken.id == token_id).execute()


def list_tokens() -> list[TokenRow]:
    return [_row(t) for t in _query().order_by(ApiToken.created_at.desc(), ApiToken.id.desc())]


def get_token(token_id: int) -> TokenRow | None:
    token = _query().where(ApiToken.id == token_id).first()
    return _row(token) if token is not None else None


def revoke_token(token_id: int) -> bool:
    return bool(ApiToken.update(revoked=True).where(ApiToken.id == token_id).execute())


def revoke_tokens_of(user_id: int) -> int:
    """Revoke every token ``user_id`` made (his account is going: they go with it)."""
    return int(
        ApiToken.update(revoked=True)
        .where((ApiToken.created_by == user_id) & (ApiToken.revoked == False))  # noqa: E712
        .execute()
    )
