"""Failed passwords and logged-out sessions in the database, so that a restart or another
process sees them: the shared store behind the portal's login throttle and the gateway's
station-password throttle, and the revoked session cookies. Sync units of work."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any

from db.schema.models import AuthFailure, RevokedSession, utcnow

__all__ = [
    "KEEP_FAILURES",
    "clear_failures",
    "expire_forever",
    "failure_ages",
    "is_revoked",
    "purge_expired",
    "record_failure",
    "revoke_session",
    "session_digest",
]

#: Failures are kept this long (every throttle window is shorter).
KEEP_FAILURES = dt.timedelta(days=1)


def record_failure(scope: str, keys: Iterable[str], now: dt.datetime | None = None) -> None:
    at = now or utcnow()
    AuthFailure.insert_many([{"scope": scope, "key": k, "at": at} for k in keys]).execute()


def clear_failures(scope: str, key: str) -> None:
    """A right password: this key's failures stop counting."""
    AuthFailure.delete().where((AuthFailure.scope == scope) & (AuthFailure.key == key)).execute()


def failure_ages(
    scope: str, keys: Iterable[str] | None, window: float, now: dt.datetime | None = None
) -> dict[str, list[float]]:
    """{key: seconds since each failure in the last ``window`` seconds, oldest first}
    (every key of ``scope`` when ``keys`` is None)."""
    now = now or utcnow()
    query = AuthFailure.select(AuthFailure.key, AuthFailure.at).where(
        (AuthFailure.scope == scope) & (AuthFailure.at > now - dt.timedelta(seconds=window))
    )
    if keys is not None:
        query = query.where(AuthFailure.key.in_(list(keys)))
    ages: dict[str, list[float]] = {}
    for row in query.order_by(AuthFailure.at).tuples():
        ages.setdefault(row[0], []).append(max(0.0, (now - row[1]).total_seconds()))
    return ages


def session_digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def revoke_session(cookie: str, lifetime: float, now: dt.datetime | None = None) -> None:
    """Refuse this session cookie from now on, until it would have expired anyway."""
    expires = (now or utcnow()) + dt.timedelta(seconds=lifetime)
    digest = session_digest(cookie)
    RevokedSession.insert(digest=digest, expires_at=expires).on_conflict(
        conflict_target=[RevokedSession.digest], update={RevokedSession.expires_at: expires}
    ).execute()


def is_revoked(cookie: str, now: dt.datetime | None = None) -> bool:
    return (
        RevokedSession.select()
        .where(
            (RevokedSession.digest == session_digest(cookie))
            & (RevokedSession.expires_at > (now or utcnow()))
        )
        .exists()
    )


def purge_expired(now: dt.datetime | None = None) -> int:
    """Delete failures older than ``KEEP_FAILURES`` and revoked cookies past their expiry."""
    now = now or utcnow()
    gone = AuthFailure.delete().where(AuthFailure.at < now - KEEP_FAILURES).execute()
    gone += RevokedSession.delete().where(RevokedSession.expires_at <= now).execute()
    return int(gone)


async def expire_forever(store: Any, interval: float = 3600.0) -> None:
    """Purge expired failures and revoked cookies every ``interval`` seconds (in a server's
    nursery; every process may run it: deleting twice is harmless)."""
    import trio

    while True:
        await store.write(purge_expired)
        await trio.sleep(interval)
