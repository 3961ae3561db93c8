"""Statistics (SPEC §6): the sessions table, a session's details, and exports with progress.

Filters, sort, chosen columns and the page cursor live in the URL, so a filtered view
can be shared. EV users get the same page over their own sessions, with monthly totals.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import time
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from quart import Blueprint, current_app, jsonify, render_template, request, url_for
from quart.wrappers import Response

from db.schema.models import utcnow
from db.sessions.session_aggregates import energy_per
from db.sessions.session_filters import FilterError, SessionFilter
from db.sessions.session_queries import (
    count_sessions,
    page_sessions,
    session_detail,
    session_messages,
    session_meter_series,
)
from db.topology.scope import Node, Viewer
from portal.access import ALL_ROLES, MenuEntry, current_principal, guard, not_found
from portal.context import get_store, scope_node, selected_node
from portal.export_jobs import MEDIA_TYPES, ExportBusyError, ExportJobs, stream_file
from portal.session_export import EXPORT_COLUMNS
from portal.session_params import COLUMNS, DEFAULT_COLUMNS, filter_params, parse_filter
from portal.timefmt import display_zone, format_time, to_local

__all__ = ["bp", "export_jobs", "menu"]

bp = guard(Blueprint("statistics", __name__, url_prefix="/statistics"), ALL_ROLES)
menu = MenuEntry("Statistics", "statistics.index", ALL_ROLES, order=30, icon="▤")

#: Parameters that are not filters.
_NOT_FILTERS = ("node", "columns", "sort", "after", "limit")


def export_jobs() -> ExportJobs:
    """This app's export jobs (created on first use, files removed with the app)."""
    jobs = current_app.extensions.get("chargeportal_exports")
    if jobs is None:
        # finished files in the file store, so a restart (or another process) still
        # serves them; without one, a private temporary folder that goes with the process
        root = current_app.config.get("FILES_ROOT")
        directory = Path(root) / "exports" if root else None
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        jobs = ExportJobs(
            directory=directory,
            sheet_rows=int(current_app.config.get("PORTAL_EXPORT_SHEET_ROWS", 1_048_575)),
            store=get_store(),
        )
        current_app.extensions["chargeportal_exports"] = jobs
        atexit.register(jobs.close)
    return jobs


COUNT_TTL = 30.0


async def cached_count(flt: SessionFilter, viewer: Viewer, node: Node) -> int:
    """How many sessions the filter selects; remembered 30 s per filter, so that paging
    through a large selection does not count it again on every page."""
    cache: dict[Any, tuple[float, int]] = current_app.extensions.setdefault(
        "chargeportal_session_counts", {}
    )
    key = (viewer, node, json.dumps(filter_params(flt.without_cursor()), sort_keys=True))
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and now - hit[0] < COUNT_TTL:
        return hit[1]
    total = await get_store().read(partial(count_sessions, flt.without_cursor(), viewer, node))
    if len(cache) > 1000:
        cache.clear()
    cache[key] = (now, total)
    return total


def _viewer() -> Viewer:
    principal = current_principal()
    assert principal is not None
    return principal.viewer()


def _node() -> Node:
    principal = current_principal()
    if principal is not None and principal.role == "ev-user":
        return Node()
    return scope_node()


def _params() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k not in ("node", "columns")}


def _columns() -> list[str]:
    """The chosen columns: ``columns=a,b`` or one ``columns=`` per checkbox."""
    chosen = [c for v in request.args.getlist("columns") for c in v.split(",") if c in COLUMNS]
    return list(dict.fromkeys(chosen)) or list(DEFAULT_COLUMNS)


def _filter_or_error() -> tuple[SessionFilter, FilterError | None]:
    zone = display_zone()  # the filter's times are typed in the display zone
    try:
        return parse_filter(_params(), zone=zone), None
    except FilterError as exc:
        params = {k: v for k, v in _params().items() if k != exc.param}
        try:
            return parse_filter(params, zone=zone), exc
        except FilterError:
            return SessionFilter(), exc


def _url(**changes: Any) -> str:
    """This page's URL with some parameters changed (None removes one)."""
    args = {k: v for k, v in request.args.items() if k != "columns"}
    if "columns" in request.args:
        args["columns"] = ",".join(_columns())
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = str(value)
    query = urlencode({k: v for k, v in args.items() if v != ""})
    return request.path + ("?" + query if query else "")


def _cell(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if key == "duration":
        return str(row["duration_text"])
    if value is None:
        return "—" if key == "end" else ""
    if isinstance(value, dt.datetime):
        return format_time(value)  # yyyy-mm-dd hh:mm:ss.s in the display zone
    if key in ("energy", "meter"):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value else "0"
    return str(value)


@bp.get("/")
async def index() -> Any:
    principal = current_principal()
    assert principal is not None
    viewer, node = _viewer(), _node()
    flt, error = _filter_or_error()
    store = get_store()
    page = await store.read(partial(page_sessions, flt, viewer, node))
    total = await cached_count(flt, viewer, node)
    monthly: list[dict[str, Any]] = []
    if principal.role == "ev-user":
        end = utcnow() + dt.timedelta(days=1)
        monthly = await store.read(
            partial(
                energy_per,
                "month",
                viewer,
                node,
                end - dt.timedelta(days=3 * 366),
                end,
                zone=display_zone(),
            )
        )
        monthly.reverse()
    columns = _columns()
    sort_key, descending = flt.sort, flt.descending

    def sort_url(key: str) -> str:
        new = key if (key != sort_key or descending) else "-" + key
        return _url(sort=new, after=None)

    def row_actions(row: dict[str, Any]) -> str:
        href = url_for("statistics.show", session_id=row["id"])
        return json.dumps([{"label": "Show", "href": href, "window": True}])

    export_params = {k: v for k, v in request.args.items() if k not in ("after", "columns") and v}
    if "columns" in request.args:
        export_params["columns"] = ",".join(_columns())
    return await render_template(
        "statistics/index.html",
        rows=page.rows,
        total=total,
        next_url=_url(after=page.next_cursor) if page.next_cursor else None,
        first_url=_url(after=None) if flt.after else None,
        columns=columns,
        all_columns=COLUMNS,
        params=request.args,
        error=error,
        sort_key=sort_key,
        descending=descending,
        sort_url=sort_url,
        row_actions=row_actions,
        cell=_cell,
        monthly=monthly,
        export_query=urlencode(export_params),
        export_columns=EXPORT_COLUMNS,
        node_key=request.args.get("node", ""),
        selected=selected_node(),
    )


@bp.get("/sessions/<int:session_id>")
async def show(session_id: int) -> Any:
    viewer = _viewer()
    store = get_store()
    detail = await store.read(session_detail, session_id, viewer)
    if detail is None:
        raise not_found("no such session")
    messages = await store.read(session_messages, session_id, viewer) or []
    for message in messages:
        try:
            message["pretty"] = json.dumps(json.loads(message["payload"]), indent=1)
        except ValueError:
            message["pretty"] = message["payload"]
    return await render_template(
        "statistics/show.html",
        session=detail,
        messages=messages,
        columns=COLUMNS,
        cell=_cell,
        meter_url=url_for("statistics.meter_values", session_id=session_id),
    )


@bp.get("/sessions/<int:session_id>/meter-values")
async def meter_values(session_id: int) -> Any:
    series = await get_store().read(session_meter_series, session_id, _viewer())
    if series is None:
        raise not_found("no such session")
    out: dict[str, dict[str, Any]] = {}
    for sample in series:
        name = sample["measurand"] + (f" {sample['phase']}" if sample["phase"] else "")
        entry = out.setdefault(name, {"measurand": name, "unit": sample["unit"], "points": []})
        try:
            value = float(sample["value"])
        except ValueError:
            continue
        stamp = sample["timestamp"]  # the chart's axis: wall-clock time of the display zone
        entry["points"].append(
            [to_local(stamp).isoformat() if hasattr(stamp, "isoformat") else str(stamp), value]
        )
    return jsonify({"series": list(out.values()), "zone": display_zone()})


def _owner() -> str:
    principal = current_principal()
    assert principal is not None
    return f"{principal.user_id}:{principal.token_id}:{principal.email}"


@bp.post("/exports")
async def export_start() -> Any:
    """Start an export of what the URL's filters select (``?format=xlsx|csv&…filters``)."""
    fmt = request.args.get("format", "xlsx")
    if fmt not in MEDIA_TYPES:
        return jsonify(error="bad-format", message="format is xlsx or csv"), 400
    try:
        flt = parse_filter(
            {k: v for k, v in _params().items() if k != "format"}, zone=display_zone()
        )
    except FilterError as exc:
        return jsonify(error="bad-filter", message=str(exc), field=exc.param), 400
    jobs = export_jobs()
    try:
        job = await jobs.open(_owner(), fmt)
    except ExportBusyError as exc:
        return jsonify(error="busy", message=str(exc)), 429
    columns = _columns() if "columns" in request.args else list(EXPORT_COLUMNS)
    run = partial(jobs.run, zone=display_zone())
    current_app.nursery.start_soon(run, job, get_store(), flt, _viewer(), _node(), columns)  # type: ignore[attr-defined]
    return jsonify(_job_body(job)), 202


def _job_body(job: Any) -> dict[str, Any]:
    """An export job as JSON, with its links: every answer about a job is the same shape."""
    return job.as_dict() | {
        "progress_url": url_for("statistics.export_progress", job_id=job.id),
        "download_url": url_for("statistics.export_download", job_id=job.id),
        "cancel_url": url_for("statistics.export_cancel", job_id=job.id),
    }


@bp.get("/exports/<job_id>")
async def export_progress(job_id: str) -> Any:
    job = await export_jobs().find(job_id, _owner())
    if job is None:
        raise not_found("no such export")
    return jsonify(_job_body(job))


@bp.get("/exports/<job_id>/download")
async def export_download(job_id: str) -> Any:
    job = await export_jobs().find(job_id, _owner())
    if job is None or job.state != "done" or job.path is None or not job.path.is_file():
        raise not_found("no finished export")
    response = Response(stream_file(job.path), mimetype=MEDIA_TYPES[job.fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{job.filename}"'
    response.headers["Content-Length"] = str(job.path.stat().st_size)
    return response


@bp.post("/exports/<job_id>/cancel")
async def export_cancel(job_id: str) -> Any:
    jobs = export_jobs()
    job = await jobs.find(job_id, _owner())
    if job is None:
        raise not_found("no such export")
    await jobs.request_cancel(job)
    return jsonify(job.as_dict())
