"""System → General, e-mail: the SMTP settings form and the *Send test e-mail* button, which
shows the mail server's own answer (SPEC §7)."""

from __future__ import annotations

from typing import Any

from quart import current_app, flash, request

import portal.configuration.views_system  # noqa: F401  (registers the loader wrapped here)
from db.config_errors import ConfigurationError
from db.errors import DomainError
from db.schema.models import utcnow
from db.system.alarm_digests import digest_summary
from db.system.alarms import log_event
from db.system.mail_settings import (
    MAIL_SETTINGS,
    default_key_file,
    load_mail_config,
    mail_settings_view,
    update_mail_settings,
)
from db.topology.topology import SYSTEM, NodeRef
from portal.access import current_principal
from portal.configuration import bp
from portal.configuration.pages import LOADERS, allowed, back_to, loader, refused, render_tab
from portal.context import get_store
from portal.mail.digest import compose_test_message
from portal.mail.smtp import SendError, send_message

# The General tab's loader (views_system) plus the e-mail settings beside it.
_system_general = LOADERS[("system", "general")]


def key_file() -> str:
    """Where the SMTP password's key lives: ``SMTP_KEY_FILE``, else the default."""
    return str(current_app.config.get("SMTP_KEY_FILE") or default_key_file())


@loader("system", "general")
async def _general_with_mail(node: NodeRef) -> dict[str, Any]:
    context = await _system_general(node)
    context["mail"] = await get_store().read(mail_settings_view)
    context["mail_last"] = await get_store().read(digest_summary)
    return context


@bp.post("/system/mail")
async def save_mail() -> Any:
    allowed("admin")
    form = dict(await request.form)
    view = await get_store().read(mail_settings_view)
    changes = {
        spec.key: str(form[spec.key])
        for spec in MAIL_SETTINGS
        if spec.key in form and spec.key not in view["sources"]  # the environment wins
    }
    password = str(form.get("mail.smtp_password", ""))
    where = key_file()
    try:
        await get_store().write(
            lambda: update_mail_settings(
                changes,
                where,
                password=password,
                clear_password=form.get("mail.clear_password") == "1",
            )
        )
    except DomainError as exc:
        form.pop("mail.smtp_password", None)  # never sent back into the page
        return await refused("general", SYSTEM, exc, form)
    await flash("E-mail settings saved.")
    return back_to("general", "system")


@bp.post("/system/mail/test")
async def send_test_mail() -> Any:
    allowed("admin")
    form = dict(await request.form)
    principal = current_principal()
    assert principal is not None
    to = str(form.get("to", "")).strip()
    store = get_store()
    try:
        if not to or "@" not in to or any(c.isspace() for c in to):
            raise ConfigurationError("Say which address the test e-mail goes to.", field="to")
        config = await store.read(load_mail_config, key_file())
        if config.problem:
            raise ConfigurationError(f"Nothing can be sent: {config.problem}.")
    except DomainError as exc:
        return await refused("general", SYSTEM, exc, form)
    now = utcnow()
    try:
        answer = await send_message(config, compose_test_message(config, to, now), timeout=20)
    except SendError as exc:
        why = str(exc)
        await store.write(
            lambda: log_event(
                "mail.test", severity="error", message=f"Test e-mail to {to} not sent: {why}"
            )
        )
        return await render_tab(
            "general",
            node=SYSTEM,
            form=form,
            status=502,
            notice=f"Test e-mail to {to} not sent: {why}",
            notice_kind="error",
        )
    await store.write(
        lambda: log_event("mail.test", message=f"Test e-mail to {to}: the server answered {answer}")
    )
    return await render_tab(
        "general",
        node=SYSTEM,
        form=form,
        notice=f"Test e-mail to {to}: the server answered {answer}",
    )
