"""System → General, e-mail: only an administrator saves SMTP settings or sends a test."""

from __future__ import annotations

from tests.portal.access_rows import Case, expect

ADMIN_POST = expect(401, 403, 403, 403, 403, 400)

ROWS = {
    ("POST", "/configuration/system/mail"): [
        Case("/configuration/system/mail", ADMIN_POST, body={"mail.smtp_port": "x"})
    ],
    ("POST", "/configuration/system/mail/test"): [
        Case("/configuration/system/mail/test", ADMIN_POST, body={"to": ""})
    ],
}
