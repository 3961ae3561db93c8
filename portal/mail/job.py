"""The daily alarm e-mail job (SPEC §7), run in the server's nursery: once the day's digest
time has passed in the system zone, every user with *Email at alarm* gets his digest, sent
in a worker thread, retried with backoff while the SMTP server is down or says "later",
recorded in the event log, and claimed in the database so it goes out once per day."""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence

import trio

from db.engine.store import Store
from db.schema.models import utcnow
from db.system.alarm_digests import (
    Claim,
    claim_digest,
    digest_content,
    finish_digest,
    next_wakeup,
    plan_digests,
    purge_digests,
    retry_digest,
)
from db.system.mail_settings import MailConfig, load_mail_config
from db.system.timezones import local_to_utc, utc_to_local
from portal.mail.digest import compose_digest
from portal.mail.smtp import SendError, send_message

__all__ = ["AlarmMailer"]

log = logging.getLogger(__name__)

#: Waits between attempts while the SMTP server is down: 30 s doubling to 30 min.
BACKOFF = (30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0)
KEEP_DAYS = 90


class AlarmMailer:
    """Sends the daily digests; ``tick()`` is one pass (tests call it directly)."""

    def __init__(
        self,
        store: Store,
        *,
        key_file: str,
        portal_url: str = "",
        environ: Mapping[str, str] | None = None,
        now: Callable[[], dt.datetime] = utcnow,
        interval: float = 60.0,
        lease: dt.timedelta = dt.timedelta(minutes=10),
        backoff: Sequence[float] = BACKOFF,
        max_attempts: int = 12,
        timeout: float = 30.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._store = store
        self._key_file = key_file
        self._portal_url = portal_url  # the link's base when no mail.portal_url is set
        self._environ = os.environ if environ is None else environ
        self._now = now
        self._interval = interval
        self._lease = lease
        self._backoff = tuple(backoff)
        self._max_attempts = max_attempts
        self._timeout = timeout
        self._tls = tls
        self._problem = ""
        self._purged = ""
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.sent = self.skipped = self.failed = self.retried = 0
        self._outcome = trio.Event()

    async def next_outcome(self) -> None:
        """Wait until the next digest is sent, skipped, failed or put back for a retry."""
        await self._outcome.wait()

    def _count(self, counter: str) -> None:
        setattr(self, counter, getattr(self, counter) + 1)
        self._outcome.set()
        self._outcome = trio.Event()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            try:
                delay = await self.tick()
            except Exception:
                log.exception("alarm e-mail pass failed")
                delay = self._interval
            await trio.sleep(delay)

    async def tick(self) -> float:
        """Plan today's digests when due, send every claimable one; seconds to the next pass."""
        store = self._store
        now = self._now()
        config = await store.read(load_mail_config, self._key_file, self._environ)
        if not config.ready:
            if config.problem != self._problem:
                log.info("alarm e-mail not sent: %s", config.problem)
            self._problem = config.problem
            return self._interval
        self._problem = ""
        local_now = utc_to_local(now, config.time_zone)
        day = local_now.date().isoformat()
        due = local_to_utc(
            dt.datetime.combine(local_now.date(), config.digest_time), config.time_zone
        )
        until_due = (due - now).total_seconds()
        if until_due <= 0:
            await store.write(plan_digests, day, now)
            if self._purged != day:
                keep_from = (local_now.date() - dt.timedelta(days=KEEP_DAYS)).isoformat()
                await store.write(purge_digests, keep_from)
                self._purged = day
        while (claim := await store.write(claim_digest, self.worker, now, self._lease)) is not None:
            await self._deliver(claim, config, now)
            now = self._now()
        wake = await store.read(next_wakeup)
        delays = [self._interval]
        if until_due > 0:
            delays.append(until_due)
        if wake is not None:
            delays.append((wake - now).total_seconds())
        return max(0.0, min(delays))

    async def _deliver(self, claim: Claim, config: MailConfig, now: dt.datetime) -> None:
        store = self._store
        content = await store.read(digest_content, claim.user_id, now)
        if not content.wanted:
            await store.write(
                finish_digest, claim, self.worker, "skipped", "Email at alarm is off", now
            )
            self._count("skipped")
            return
        if content.empty and not config.send_when_empty:
            await store.write(
                lambda: finish_digest(
                    claim, self.worker, "skipped", "no alarms", now, covered_until=now
                )
            )
            self._count("skipped")
            return
        portal_url = config.portal_url or self._portal_url
        message = compose_digest(
            content, config, claim.day, user_id=claim.user_id, portal_url=portal_url
        )
        try:
            answer = await send_message(config, message, timeout=self._timeout, context=self._tls)
        except SendError as exc:
            why = str(exc)
            attempts = claim.attempts + 1
            if exc.temporary and attempts < self._max_attempts:
                wait = self._backoff[min(claim.attempts, len(self._backoff) - 1)]
                at = now + dt.timedelta(seconds=wait)
                log.warning("alarm e-mail to %s: %s; again in %g s", content.email, exc, wait)
                await store.write(
                    lambda: retry_digest(claim, self.worker, why, now, at, content.email)
                )
                self._count("retried")
                return
            reason = why + (f" (attempt {attempts})" if attempts > 1 else "")
            log.error("alarm e-mail to %s failed: %s", content.email, reason)
            ended = self._now()
            await store.write(
                lambda: finish_digest(
                    claim, self.worker, "failed", reason, ended, email=content.email
                )
            )
            self._count("failed")
            return
        ended = self._now()
        recorded = await store.write(
            lambda: finish_digest(
                claim,
                self.worker,
                "sent",
                answer,
                ended,
                covered_until=now,
                email=content.email,
            )
        )
        if not recorded:
            log.warning("alarm e-mail to %s sent after its claim had lapsed", content.email)
        self._count("sent")
