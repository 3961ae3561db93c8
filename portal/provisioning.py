"""Provisioning (SPEC §7): the users table, role-specific forms, API tokens."""

from __future__ import annotations

import json
from functools import partial
from typing import Any
from urllib.parse import urlencode

import trio
from quart import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from db.accounts.accounts import (
    SORTABLE_USER_COLUMNS,
    AccountError,
    check_user,
    create_user,
    delete_user,
    get_user,
    list_users,
    normalise_rfid,
    update_user,
    visitors_since,
)
from db.accounts.api_tokens import TOKEN_ROLES, create_token, list_tokens, revoke_token
from db.accounts.id_tags import (
    TAG_STATUSES,
    create_id_tag,
    delete_id_tag,
    find_id_tag,
    page_id_tags,
    update_id_tag,
)
from db.accounts.passwords import WeakPasswordError, check_policy, hash_password
from db.errors import Invalid
from db.schema.models import ROLES
from db.topology.topology import site_choices
from portal.access import MenuEntry, current_principal, guard, not_found, requires
from portal.context import get_store, page_number, selected_node
from portal.timefmt import parse_local

__all__ = ["ROLE_LABELS", "bp", "menu"]

#: Only an administrator creates users (SPEC §2); a site administrator sees his site's.
bp = guard(Blueprint("provisioning", __name__, url_prefix="/provisioning"), ("admin", "site-admin"))
menu = MenuEntry("Provisioning", "provisioning.index", ("admin", "site-admin"), order=60, icon="◉")

ROLE_LABELS = {
    "ev-user": "EV user",
    "admin": "Administrator",
    "site-admin": "Site administrator",
    "support": "Support user",
}
PAGE_SIZE = 50
TAG_PAGE_SIZE = 50


def _me() -> Any:
    principal = current_principal()
    assert principal is not None
    return principal


@bp.get("/")
async def index() -> Any:
    principal = _me()
    args = request.args
    sort = args.get("sort", "email")
    sort = sort if sort in SORTABLE_USER_COLUMNS else "email"
    descending = args.get("dir") == "desc"
    page = page_number()
    role = args.get("role", "")
    role = role if role in ROLES else ""
    node = selected_node()
    site_filter = principal.site_scope
    if site_filter is None and node.kind != "system":
        site_filter = node.site_id  # a node scopes the table to its site's users
    # a site's charging users: his own, and (read-only) EV users of no site who charged
    # there in the last 12 months (SPEC §2: "its charging users")
    since = visitors_since() if site_filter is not None else None
    rows, total = await get_store().read(
        partial_list(
            site_filter,
            q=args.get("q", ""),
            role=role,
            sort=sort,
            descending=descending,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            visitors_since=since,
        )
    )

    def sort_url(column: str) -> str:
        direction = "desc" if column == sort and not descending else "asc"
        query = {k: v for k, v in args.items() if k not in ("sort", "dir", "page")}
        return "?" + urlencode({**query, "sort": column, "dir": direction})

    def page_url(number: int) -> str:
        return "?" + urlencode({**dict(args.items()), "page": number})

    def row_actions(user: Any) -> str:
        if not principal.is_admin or user.visitor:
            return "[]"
        actions = [
            {"label": "Edit", "href": url_for("provisioning.edit", user_id=user.id)},
            {
                "label": "Delete",
                "post": url_for("provisioning.delete", user_id=user.id),
                "confirm": f"Delete the account {user.email}? Past sessions are kept.",
                "danger": True,
            },
        ]
        return json.dumps(actions)

    add_action = (
        json.dumps([{"label": "Add", "href": url_for("provisioning.new")}])
        if principal.is_admin
        else "[]"
    )
    return await render_template(
        "provisioning/index.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
        sort=sort,
        descending=descending,
        q=args.get("q", ""),
        role=role,
        roles=ROLE_LABELS,
        sort_url=sort_url,
        page_url=page_url,
        row_actions=row_actions,
        add_action=add_action,
    )


def partial_list(site_id: int | None, **kw: Any) -> Any:
    """``list_users`` bound to its arguments (Store.read takes positional args only)."""

    def run() -> Any:
        return list_users(site_id, **kw)

    return run


async def _form_page(
    user: Any, form: MultiDict[str, str] | None, errors: dict[str, str], status: int = 200
) -> Any:
    sites = await get_store().read(site_choices)
    role = (form.get("role") if form else None) or (user.role if user else None)
    role = role or request.args.get("role", "ev-user")
    html = await render_template(
        "provisioning/form.html",
        user=user,
        form=form,
        errors=errors,
        sites=sites,
        roles=ROLE_LABELS,
        role=role if role in ROLE_LABELS else "ev-user",
    )
    return html, status


def _form_data(form: MultiDict[str, str]) -> dict[str, Any]:
    site = form.get("site_id", "")
    return {
        "email": form.get("email", ""),
        "first_name": form.get("first_name", ""),
        "last_name": form.get("last_name", ""),
        "role": form.get("role", ""),
        "site_id": int(site) if site.isdigit() else None,
        "email_at_alarm": form.get("email_at_alarm") in ("on", "1", "true"),
        "rfid": form.get("rfid", ""),
    }


def _badge_number(
    form: MultiDict[str, str], errors: dict[str, str]
) -> tuple[str, MultiDict[str, str] | None]:
    """The badge number field (EV users): decimal as typed; a hexadecimal number is
    converted and shown to the person before anything is saved. Returns the idTag to
    store and, when converted, the form to show again with the decimal number in it."""
    typed = form.get("rfid", "")
    if form.get("role") != "ev-user" or not typed.strip():
        return typed, None
    try:
        decimal = normalise_rfid(typed)
    except AccountError as exc:
        errors.update(_sentences({exc.field: exc.message}))
        return typed, None
    if decimal == typed.strip():
        return decimal, None
    shown = form.copy()
    shown["rfid"] = decimal
    errors["rfid"] = (
        f"{typed.strip()} is a hexadecimal badge number: in decimal it is {decimal}, "
        "now in the field. Check it and save again to store it."
    )
    return decimal, shown


def _sentences(errors: dict[str, str]) -> dict[str, str]:
    """db's messages as sentences, next to their fields."""
    return {
        field: f"{message[:1].upper()}{message[1:]}" + ("" if message.endswith(".") else ".")
        for field, message in errors.items()
    }


async def _password_hash(password: str, errors: dict[str, str], required: bool) -> str | None:
    if not password:
        if required:
            errors["password"] = "A password is required (there are no default passwords)."
        return None
    try:
        check_policy(password)
    except WeakPasswordError as exc:
        errors["password"] = f"{str(exc)[0].upper()}{str(exc)[1:]}."
        return None
    return await trio.to_thread.run_sync(hash_password, password)


@bp.get("/users/new")
@requires("admin")
async def new() -> Any:
    return await _form_page(None, None, {})


@bp.post("/users/new")
@requires("admin")
async def create() -> Any:
    form = await request.form
    errors: dict[str, str] = {}
    data = _form_data(form)
    data["rfid"], shown = _badge_number(form, errors)
    for field, message in _sentences(await get_store().read(check_user, data, None)).items():
        errors.setdefault(field, message)
    data["password_hash"] = await _password_hash(form.get("password", ""), errors, True)
    if errors:
        return await _form_page(None, shown or form, errors, 400)
    try:
        await get_store().write(create_user, data)
    except AccountError as exc:
        return await _form_page(None, form, {exc.field: exc.message}, 400)
    await flash(f"The account {data['email'].strip()} was created.")
    return redirect(url_for("provisioning.index"))


async def _user_in_scope(user_id: int) -> Any:
    user = await get_store().read(get_user, user_id, _me().site_scope)
    if user is None:
        raise not_found("no such user")
    return user


@bp.get("/users/<int:user_id>/edit")
@requires("admin")
async def edit(user_id: int) -> Any:
    user = await _user_in_scope(user_id)
    return await _form_page(user, None, {})


@bp.post("/users/<int:user_id>/edit")
@requires("admin")
async def update(user_id: int) -> Any:
    user = await _user_in_scope(user_id)
    form = await request.form
    errors: dict[str, str] = {}
    data = _form_data(form)
    data["rfid"], shown = _badge_number(form, errors)
    for field, message in _sentences(await get_store().read(check_user, data, user_id)).items():
        errors.setdefault(field, message)
    new_hash = await _password_hash(form.get("password", ""), errors, False)
    if new_hash:
        data["password_hash"] = new_hash
    if user.id == _me().user_id and data["role"] != user.role:
        errors["role"] = "You cannot change your own role."
    if errors:
        return await _form_page(user, shown or form, errors, 400)
    try:
        await get_store().write(update_user, user_id, data)
    except AccountError as exc:
        return await _form_page(user, form, {exc.field: exc.message}, 400)
    await flash(f"The account {user.email} was saved.")
    return redirect(url_for("provisioning.index"))


@bp.post("/users/<int:user_id>/delete")
@requires("admin")
async def delete(user_id: int) -> Any:
    user = await _user_in_scope(user_id)
    if user.id == _me().user_id:
        await flash("You cannot delete your own account.")
        return redirect(url_for("provisioning.index"))
    await get_store().write(delete_user, user_id)
    await flash(f"The account {user.email} was deleted; its past sessions are kept.")
    return redirect(url_for("provisioning.index"))


# --- API tokens (administrators) ---------------------------------------------


async def _tokens_page(errors: dict[str, str], status: int = 200, secret: str = "") -> Any:
    tokens = await get_store().read(list_tokens)
    sites = await get_store().read(site_choices)
    html = await render_template(
        "provisioning/tokens.html",
        tokens=tokens,
        sites=sites,
        errors=errors,
        secret=secret,
        token_roles=TOKEN_ROLES,
        roles=ROLE_LABELS,
    )
    return html, status


@bp.get("/tokens")
@requires("admin")
async def tokens() -> Any:
    return await _tokens_page({})


@bp.post("/tokens")
@requires("admin")
async def token_create() -> Any:
    form = await request.form
    site = form.get("site_id", "")
    expires = (form.get("expires_at") or "").strip()
    try:
        expires_at = parse_local(expires) if expires else None
    except ValueError:
        return await _tokens_page({"expires_at": "Enter a date and time, or leave it empty."}, 400)
    try:
        _, secret = await get_store().write(
            partial(
                create_token,
                form.get("name", ""),
                form.get("role", ""),
                int(site) if site.isdigit() and len(site) < 19 else None,
                _me().user_id,
                expires_at,
            )
        )
    except Invalid as exc:
        field = exc.field if exc.field in ("expires_at", "name") else "name"
        return await _tokens_page({field: exc.message}, 400)
    return await _tokens_page({}, 201, secret=secret)


@bp.post("/tokens/<int:token_id>/revoke")
@requires("admin")
async def token_revoke(token_id: int) -> Any:
    if not await get_store().write(revoke_token, token_id):
        raise not_found("no such token")
    await flash("The token was revoked.")
    return redirect(url_for("provisioning.tokens"))


# --- RFID badges (id tags): status and expiry -----------------------------------


async def _tags_page(errors: dict[str, str], status: int = 200, form: Any = None) -> Any:
    """The badges tab: 50 badges a page in RFID order (keyset cursors ``after``/``before``),
    a search, and one row at a time turned into its edit form (``edit``)."""
    principal = _me()
    args = request.args
    tag_status = args.get("status", "")
    tag_status = tag_status if tag_status in TAG_STATUSES else ""
    q = args.get("q", "").strip()
    query = partial(
        page_id_tags,
        principal.site_scope,
        status=tag_status,
        q=q,
        after=args.get("after", ""),
        before=args.get("before", ""),
        limit=TAG_PAGE_SIZE,
    )
    found = await get_store().read(query)
    keep = {k: v for k, v in (("q", q), ("status", tag_status)) if v}
    base = url_for("provisioning.tags")

    def tags_url(**cursor: str) -> str:
        query = urlencode({**keep, **cursor})
        return f"{base}?{query}" if query else base

    here_args = urlencode([(k, v) for k, v in args.items(multi=True) if k != "edit"])

    editing = args.get("edit", "") if principal.is_admin else ""
    errored = [key[4:] for key in errors if key.startswith("tag-")]
    html = await render_template(
        "provisioning/tags.html",
        page=found,
        rows=found.rows,
        total=found.total,
        statuses=TAG_STATUSES,
        errors=errors,
        form=form,
        q=q,
        status=tag_status,
        editing=errored[0] if errored else editing,
        tags_url=tags_url,
        here=f"{base}?{here_args}" if here_args else base,
    )
    return html, status


@bp.get("/tags")
async def tags() -> Any:
    return await _tags_page({})


def _expiry_utc(raw: str) -> str:
    """The form's expiry (typed in the display zone) as ISO UTC; bad text is left for
    the badge check to refuse with its own message."""
    try:
        return parse_local(raw).isoformat() + "Z" if raw.strip() else ""
    except ValueError:
        return raw


def _tag_data(form: MultiDict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {"status": form.get("status", "Accepted")}
    data["expiryDate"] = _expiry_utc(form.get("expiry", "")) or None
    if "note" in form:
        data["note"] = form.get("note", "")
    return data


@bp.post("/tags")
@requires("admin")
async def tag_create() -> Any:
    form = await request.form
    data = {"idTag": form.get("id_tag", ""), **_tag_data(form)}
    try:
        stored = await get_store().write(create_id_tag, data)
    except AccountError as exc:
        field = {"idTag": "id_tag", "expiryDate": "expiry"}.get(exc.field, exc.field)
        return await _tags_page({field: exc.message}, 400, form)
    await flash(f"The badge {stored} was added.")
    return redirect(url_for("provisioning.tags"))


@bp.post("/tags/<id_tag>/edit")
@requires("admin")
async def tag_update(id_tag: str) -> Any:
    if await get_store().read(find_id_tag, id_tag, None) is None:
        raise not_found("no such badge")
    form = await request.form
    try:
        await get_store().write(update_id_tag, id_tag, _tag_data(form))
    except AccountError as exc:
        return await _tags_page({f"tag-{id_tag}": exc.message}, 400)
    await flash(f"The badge {id_tag} was saved.")
    return redirect(_back_to_tags(form.get("back", "")))


@bp.post("/tags/<id_tag>/delete")
@requires("admin")
async def tag_delete(id_tag: str) -> Any:
    if not await get_store().write(delete_id_tag, id_tag):
        raise not_found("no such badge")
    await flash(f"The badge {id_tag} was deleted.")
    return redirect(_back_to_tags((await request.form).get("back", "")))


def _back_to_tags(back: str) -> str:
    """The badges page the form came from (only a path of this tab: no open redirect)."""
    base = url_for("provisioning.tags")
    if back.startswith(base) and not back.startswith("//"):
        from urllib.parse import parse_qsl, urlsplit

        kept = [(k, v) for k, v in parse_qsl(urlsplit(back).query) if k != "edit"]
        return base + ("?" + urlencode(kept) if kept else "")
    return base
