"""The daily alarm e-mail's records and content (SPEC §7): who gets one, what he may see,
and the per-user-per-day row claimed atomically so that it goes out once. Sync units of work.

A row is made ``pending`` for each recipient once the day's digest time has passed. A sender
claims it with a conditional UPDATE (``sending`` until its lease ends), so two processes
never both own it; a process that dies while sending leaves a lease that runs out, and the
next claimer (another process, or this one restarted) sends it. Only ``sent``, ``skipped``
and ``failed`` are final. The one window left is a process dying between the SMTP server's
250 and the commit of ``sent``: the e-mail then goes out twice, with the same Message-ID.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

import peewee as pw

from db.schema.models import Alarm, AlarmDigest, Site, Station, User
from db.system.alarms import log_event

__all__ = [
    "DIGEST_ROLES",
    "Claim",
    "DigestAlarm",
    "DigestContent",
    "claim_digest",
    "digest_content",
    "digest_summary",
    "finish_digest",
    "next_wakeup",
    "plan_digests",
    "purge_digests",
    "retry_digest",
]

#: Roles that may ask for the e-mail (SPEC §7: administrator and site administrator).
DIGEST_ROLES = ("admin", "site-admin")
#: At most this many alarms are listed per section; the rest are counted.
LIST_LIMIT = 200
FINAL = ("sent", "skipped", "failed")


@dataclass(frozen=True)
class Claim:
    """A digest this sender owns until ``lease_until``."""

    id: int
    user_id: int
    day: str
    attempts: int  # earlier attempts that failed for a reason worth retrying


@dataclass(frozen=True)
class DigestAlarm:
    kind: str
    charge_box_id: str
    station_name: str
    site_name: str
    connector_id: int
    message: str
    raised_at: dt.datetime
    cleared_at: dt.datetime | None
    count: int


@dataclass(frozen=True)
class DigestContent:
    """What one recipient may see: the active alarms of his scope and those cleared since
    his previous digest (``since``), as of ``as_of``."""

    email: str
    name: str
    role: str
    site_name: str  # a site administrator's site; "" for an administrator
    as_of: dt.datetime
    since: dt.datetime
    active: list[DigestAlarm] = field(default_factory=list)
    active_total: int = 0
    cleared: list[DigestAlarm] = field(default_factory=list)
    cleared_total: int = 0
    wanted: bool = True  # False: the user no longer asks for it (flag, role or account)

    @property
    def empty(self) -> bool:
        return not self.active_total and not self.cleared_total


def plan_digests(day: str, now: dt.datetime) -> int:
    """A pending row for ``day`` per user with *Email at alarm* who has none yet."""
    users = User.select(User.id).where(
        User.email_at_alarm & User.role.in_(DIGEST_ROLES) & (User.email != "")
    )
    rows = [
        {
            "user": user.id,
            "day": day,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "claimed_by": "",
            "detail": "",
            "created_at": now,
            "updated_at": now,
        }
        for user in users
    ]
    if not rows:
        return 0
    before = AlarmDigest.select().where(AlarmDigest.day == day).count()
    AlarmDigest.insert_many(rows).on_conflict_ignore().execute()
    return AlarmDigest.select().where(AlarmDigest.day == day).count() - before


def _claimable(now: dt.datetime) -> pw.Expression:
    return ((AlarmDigest.status == "pending") & (AlarmDigest.next_attempt_at <= now)) | (
        (AlarmDigest.status == "sending") & (AlarmDigest.lease_until < now)
    )


def claim_digest(worker: str, now: dt.datetime, lease: dt.timedelta) -> Claim | None:
    """Take one due digest for ``worker`` until ``now + lease``; None when none is due.

    The UPDATE repeats the condition, so of two processes racing for a row exactly one
    changes it (on PostgreSQL the second re-reads the row after the first commits)."""
    candidates = (
        AlarmDigest.select(AlarmDigest.id)
        .where(_claimable(now))
        .order_by(AlarmDigest.next_attempt_at, AlarmDigest.id)
        .limit(5)
    )
    for candidate in list(candidates):
        changed = (
            AlarmDigest.update(
                status="sending", claimed_by=worker, lease_until=now + lease, updated_at=now
            )
            .where((AlarmDigest.id == candidate.id) & _claimable(now))
            .execute()
        )
        if changed == 1:
            row = AlarmDigest.get_by_id(candidate.id)
            return Claim(row.id, row.user_id, row.day, row.attempts)
    return None


def _owned(claim: Claim, worker: str) -> pw.Expression:
    return (
        (AlarmDigest.id == claim.id)
        & (AlarmDigest.status == "sending")
        & (AlarmDigest.claimed_by == worker)
    )


def finish_digest(
    claim: Claim,
    worker: str,
    status: str,
    detail: str,
    now: dt.datetime,
    *,
    covered_until: dt.datetime | None = None,
    email: str = "",
) -> bool:
    """Record the outcome (sent, skipped, failed) and, for sent or failed, an event; False
    when the claim was lost (its lease ran out and another sender took it)."""
    assert status in FINAL
    changed = (
        AlarmDigest.update(
            status=status,
            detail=detail[:2000],
            lease_until=None,
            covered_until=covered_until,
            attempts=AlarmDigest.attempts + (status != "skipped"),
            updated_at=now,
        )
        .where(_owned(claim, worker))
        .execute()
    )
    if changed and status == "sent":
        log_event("mail.sent", message=f"Alarm e-mail of {claim.day} to {email}: {detail}", now=now)
    elif changed and status == "failed":
        log_event(
            "mail.failed",
            severity="error",
            message=f"Alarm e-mail of {claim.day} to {email} not sent: {detail}",
            now=now,
        )
    return bool(changed)


def retry_digest(
    claim: Claim, worker: str, detail: str, now: dt.datetime, at: dt.datetime, email: str = ""
) -> bool:
    """Give the claim back as pending until ``at`` (the server is down or said "try later")."""
    changed = (
        AlarmDigest.update(
            status="pending",
            detail=detail[:2000],
            attempts=AlarmDigest.attempts + 1,
            next_attempt_at=at,
            lease_until=None,
            updated_at=now,
        )
        .where(_owned(claim, worker))
        .execute()
    )
    if changed:
        wait = max(0, round((at - now).total_seconds()))
        log_event(
            "mail.retry",
            severity="warning",
            message=f"Alarm e-mail of {claim.day} to {email} not sent yet ({detail});"
            f" next attempt in {wait} s",
            now=now,
        )
    return bool(changed)


def next_wakeup() -> dt.datetime | None:
    """When the earliest unfinished digest becomes claimable (a retry, or a lease's end)."""
    pending = (
        AlarmDigest.select(pw.fn.MIN(AlarmDigest.next_attempt_at))
        .where(AlarmDigest.status == "pending")
        .scalar()
    )
    leased = (
        AlarmDigest.select(pw.fn.MIN(AlarmDigest.lease_until))
        .where(AlarmDigest.status == "sending")
        .scalar()
    )
    times = [_as_datetime(t) for t in (pending, leased) if t is not None]
    return min(times) if times else None


def _as_datetime(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def digest_summary() -> dict[str, object]:
    """The latest day's digests for System → General: that day, how many per status, and
    the latest problem (a failure, or a retry's reason)."""
    day = AlarmDigest.select(pw.fn.MAX(AlarmDigest.day)).scalar()
    if day is None:
        return {"day": "", "counts": {}, "problem": ""}
    rows = AlarmDigest.select(AlarmDigest.status, pw.fn.COUNT(AlarmDigest.id).alias("n")).where(
        AlarmDigest.day == day
    )
    counts = {row.status: int(row.n) for row in rows.group_by(AlarmDigest.status)}
    trouble = (
        AlarmDigest.select(AlarmDigest.detail)
        .where(
            (AlarmDigest.day == day)
            & (AlarmDigest.status.in_(("failed", "pending")))
            & (AlarmDigest.detail != "")
        )
        .order_by(AlarmDigest.updated_at.desc())
        .first()
    )
    return {"day": day, "counts": counts, "problem": trouble.detail if trouble else ""}


def purge_digests(before_day: str) -> int:
    """Forget finished records of days before ``before_day``."""
    return int(
        AlarmDigest.delete()
        .where((AlarmDigest.day < before_day) & AlarmDigest.status.in_(FINAL))
        .execute()
    )


# --- content --------------------------------------------------------------------------


def _rows(query: pw.ModelSelect, sites: dict[int, str]) -> list[DigestAlarm]:
    names: dict[int, str] = {}
    alarms: list[Any] = list(query)
    station_ids = {a.station_id for a in alarms if a.station_id is not None}
    if station_ids:
        names = {
            s.id: s.name
            for s in Station.select(Station.id, Station.name).where(Station.id.in_(station_ids))
        }
    return [
        DigestAlarm(
            kind=a.kind,
            charge_box_id=a.charge_box_id,
            station_name=names.get(a.station_id, "") if a.station_id is not None else "",
            site_name=sites.get(a.site_id, "") if a.site_id is not None else "",
            connector_id=a.connector_id,
            message=a.message,
            raised_at=a.raised_at,
            cleared_at=a.cleared_at,
            count=a.count,
        )
        for a in alarms
    ]


def digest_content(user_id: int, now: dt.datetime) -> DigestContent:
    """The alarms ``user_id`` may see, active as of ``now`` and cleared since his previous
    digest (or the last 24 hours before his first). A site administrator's scope is his
    site: alarms of other sites and of no site (system alarms) are not even read."""
    user = User.get_or_none(User.id == user_id)
    if user is None:
        return DigestContent("", "", "", "", now, now, wanted=False)
    name = f"{user.first_name} {user.last_name}".strip()
    wanted = bool(user.email_at_alarm) and user.role in DIGEST_ROLES and bool(user.email)
    site_scope: int | None = None
    site_name = ""
    if user.role == "site-admin":
        if user.site_id is None:
            wanted = False
        else:
            site_scope = user.site_id
            site = Site.get_or_none(Site.id == site_scope)
            site_name = site.name if site is not None else ""
    previous = (
        AlarmDigest.select(pw.fn.MAX(AlarmDigest.covered_until))
        .where(
            (AlarmDigest.user == user_id)
            & AlarmDigest.status.in_(("sent", "skipped"))
            & AlarmDigest.covered_until.is_null(False)
        )
        .scalar()
    )
    since = _as_datetime(previous) if previous is not None else now - dt.timedelta(hours=24)
    content = DigestContent(user.email, name, user.role, site_name, now, since, wanted=wanted)
    if not wanted:
        return content
    if site_scope is not None:
        sites = {site_scope: site_name}
        scope: Any = Alarm.site == site_scope
    else:
        sites = {s.id: s.name for s in Site.select(Site.id, Site.name)}
        scope = pw.SQL("1 = 1")
    active = Alarm.select().where(scope & Alarm.cleared_at.is_null() & (Alarm.raised_at <= now))
    cleared = Alarm.select().where(scope & (Alarm.cleared_at > since) & (Alarm.cleared_at <= now))
    content.active.extend(
        _rows(active.order_by(Alarm.raised_at, Alarm.id).limit(LIST_LIMIT), sites)
    )
    content.cleared.extend(
        _rows(cleared.order_by(Alarm.cleared_at, Alarm.id).limit(LIST_LIMIT), sites)
    )
    return replace(content, active_total=active.count(), cleared_total=cleared.count())
