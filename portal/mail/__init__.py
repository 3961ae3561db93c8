"""E-mail from the portal: SMTP sending, the daily alarm digest and its job (SPEC §7)."""

from portal.mail.job import AlarmMailer

__all__ = ["AlarmMailer"]
