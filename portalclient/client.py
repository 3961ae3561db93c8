"""``PortalClient``: the portal's JSON API (``/api/v1``) over HTTP with a bearer token."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from portalclient.errors import PortalError, error_for

__all__ = ["PAGE_SIZE", "SESSION_PAGE_SIZE", "PortalClient"]

#: The API's largest page for offset-paged lists (stations, outlets, alarms, events).
PAGE_SIZE = 500
#: The sessions API's largest keyset page.
SESSION_PAGE_SIZE = 1000


def _params(filters: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters: None is left out, booleans are ``true``/``false``."""
    out: dict[str, str] = {}
    for key, value in filters.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


class PortalClient:
    """A running portal, seen with one API token's role and scope."""

    def __init__(
        self, url: str, token: str, *, timeout: float = 60.0, http: httpx.Client | None = None
    ) -> None:
        if not url:
            raise ValueError("the portal's URL is missing (set CHARGEPORTAL_URL)")
        if not token:
            raise ValueError("an API token is missing (set CHARGEPORTAL_TOKEN)")
        self.url = url.rstrip("/")
        self._http = http or httpx.Client(timeout=timeout)
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PortalClient:
        """From ``CHARGEPORTAL_URL`` and ``CHARGEPORTAL_TOKEN``."""
        env = os.environ if env is None else env
        return cls(env.get("CHARGEPORTAL_URL", ""), env.get("CHARGEPORTAL_TOKEN", ""))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plain requests -------------------------------------------------------------

    def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> Any:
        """One API call; the decoded JSON answer, or a ``PortalError`` with the API's reason."""
        response = self._http.request(
            method,
            f"{self.url}/api/v1{path}",
            params=_params(params or {}),
            json=body,
            headers=self._headers,
        )
        if response.status_code >= 400:
            raise _error(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def iter_pages(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of an offset-paged list (``items``/``total``), one page at a time."""
        offset = 0
        while True:
            page = self.get(path, **params, limit=PAGE_SIZE, offset=offset)
            items = page["items"]
            yield from items
            offset += len(items)
            if not items or offset >= int(page["total"]):
                return

    # --- what there is --------------------------------------------------------------

    def sites(self) -> list[dict[str, Any]]:
        return list(self.iter_pages("/sites"))

    def stations(self, **filters: Any) -> list[dict[str, Any]]:
        """Filters: ``siteId``, ``floorId``, ``q``, ``online`` (True/False)."""
        return list(self.iter_pages("/stations", **filters))

    def station(self, charge_box_id: str) -> dict[str, Any]:
        """One station with outlets and the gateway's live snapshot (``live``)."""
        return dict(self.get(f"/stations/{_seg(charge_box_id)}"))

    def outlets(self, **filters: Any) -> list[dict[str, Any]]:
        """Filters: ``chargeBoxId``, ``mode`` (OPEN | RFID)."""
        return list(self.iter_pages("/outlets", **filters))

    def configuration(self, charge_box_id: str) -> list[dict[str, Any]]:
        """The station's OCPP configuration keys as last read."""
        return list(self.get(f"/stations/{_seg(charge_box_id)}/configuration")["items"])

    def messages(
        self,
        charge_box_id: str,
        *,
        limit: int = 200,
        before: int | None = None,
        action: str | None = None,
    ) -> list[dict[str, Any]]:
        """The station's newest OCPP-J frames, both ways (``messageType`` Call, CallResult,
        CallError, Malformed; ``payload`` the frame as on the wire), oldest first; ``before``
        a frame id pages to older ones, ``action`` keeps one action's calls and replies."""
        path = f"/stations/{_seg(charge_box_id)}/messages"
        params: dict[str, Any] = {"limit": limit}
        if before is not None:
            params["before"] = before
        if action:
            params["action"] = action
        return list(self.get(path, **params)["items"])

    def connections(
        self, charge_box_id: str | None = None, **filters: Any
    ) -> Iterator[dict[str, Any]]:
        """Connection events (``kind`` connected | disconnected, ``reason``, ``at``) of one
        station, or of every station in scope; filters ``from``, ``to`` (ISO times), ``site``."""
        path = (
            "/connections"
            if charge_box_id is None
            else f"/stations/{_seg(charge_box_id)}/connections"
        )
        params = dict(filters)
        while True:
            page = self.get(path, **params)
            yield from page["items"]
            if page.get("next") is None:
                return
            params["after"] = page["next"]

    def session_messages(self, session_id: int) -> list[dict[str, Any]]:
        """Every kept OCPP message of one charging session, in order."""
        return list(self.get(f"/sessions/{int(session_id)}/messages")["items"])

    def meter_values(self, session_id: int) -> list[dict[str, Any]]:
        """One charging session's sampled values (measurand, value, unit, phase) over time."""
        return list(self.get(f"/sessions/{int(session_id)}/meter-values")["items"])

    # --- alarms -----------------------------------------------------------------------

    def alarms(self, state: str = "active", **filters: Any) -> Iterator[dict[str, Any]]:
        """``state`` active or cleared (history); filters node, kind, q, from, to."""
        return self.iter_pages("/alarms", state=state, **filters)

    def events(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """The event log, newest first; filters node, kind, q, from, to."""
        return self.iter_pages("/events", **filters)

    # --- sessions ---------------------------------------------------------------------

    def iter_sessions(
        self, *, page_size: int = SESSION_PAGE_SIZE, **filters: Any
    ) -> Iterator[dict[str, Any]]:
        """Sessions matching the Statistics filters (``station=``, ``start_from=``,
        ``energy_min=``, ``sort=``, ...), page by page along the API's keyset cursor."""
        params = {**filters, "limit": page_size}
        while True:
            page = self.get("/sessions", **params)
            yield from page["items"]
            if not page.get("next"):
                return
            params["after"] = page["next"]

    def session(self, session_id: int) -> dict[str, Any]:
        return dict(self.get(f"/sessions/{int(session_id)}"))

    def count_sessions(self, **filters: Any) -> int:
        return int(self.get("/sessions", **filters, limit=1)["total"])

    @contextmanager
    def sessions_csv(self, columns: list[str], **filters: Any) -> Iterator[httpx.Response]:
        """The streamed CSV export (``/sessions/export.csv``), open as a response whose
        body has not been read yet; ``X-Total-Count`` tells how many rows follow."""
        params = _params({**filters, "columns": ",".join(columns)})
        request = self._http.build_request(
            "GET", f"{self.url}/api/v1/sessions/export.csv", params=params, headers=self._headers
        )
        response = self._http.send(request, stream=True)
        try:
            if response.status_code >= 400:
                response.read()
                raise _error(response)
            yield response
        finally:
            response.close()

    # --- commands ---------------------------------------------------------------------

    def command(
        self,
        charge_box_id: str,
        action: str,
        payload: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send an OCPP command (``reset``, ``trigger-message``, ``get-diagnostics``, …;
        CamelCase works too) with its wire payload; the station's answer. Offline,
        refused or bad payloads raise the API's reason (``Conflict``, ``BadRequest``)."""
        path = f"/stations/{_seg(charge_box_id)}/commands/{kebab(action)}"
        params = {"timeout": timeout} if timeout is not None else {}
        answer = self.request("POST", path, params=params, body=dict(payload or {}))
        return dict(answer or {})


def kebab(action: str) -> str:
    """``TriggerMessage`` → ``trigger-message``; kebab-case passes through."""
    if "-" in action or action.islower():
        return action
    out = "".join(f"-{c.lower()}" if c.isupper() else c for c in action)
    return out.lstrip("-")


def _seg(value: str) -> str:
    """One path segment, escaped (charge box ids may hold any character)."""
    from urllib.parse import quote

    return quote(str(value), safe="")


def _error(response: httpx.Response) -> PortalError:
    try:
        body = response.json()
    except ValueError:
        body = None
    return error_for(response.status_code, body, response.text)
