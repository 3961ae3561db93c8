"""Who looks at which Navigator node: the row conditions that scope sessions and stations."""

from __future__ import annotations

from dataclasses import dataclass

import peewee
from peewee import fn

from db.schema.models import AUTH_REFUSED, ChargingSession, IdTag, Outlet, Station

Expr = peewee.ColumnBase

__all__ = [
    "COUNTED",
    "Node",
    "Viewer",
    "session_scope",
    "station_scope",
]

NODE_KINDS = ("system", "site", "floor", "station", "outlet")


@dataclass(frozen=True)
class Viewer:
    """The person (or API token) asking: role per SPEC §2, his site, his user id."""

    role: str
    user_id: int | None = None
    site_id: int | None = None


@dataclass(frozen=True)
class Node:
    """A Navigator node: ``system`` (id None), ``site``, ``floor``, ``station`` or ``outlet``."""

    kind: str = "system"
    id: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in NODE_KINDS:
            raise ValueError(f"unknown node kind {self.kind!r}")
        if self.kind != "system" and self.id is None:
            raise ValueError(f"a {self.kind} node needs an id")


SYSTEM = Node()

#: Sessions that count (energy totals, diagrams, dashboard): a refused start is kept
#: for audit only and shows in the sessions table only when a filter asks for it.
COUNTED: Expr = ChargingSession.authentication != AUTH_REFUSED

_NOTHING = peewee.SQL("1 = 0")
_EVERYTHING = peewee.SQL("1 = 1")


def session_scope(viewer: Viewer, node: Node = SYSTEM) -> Expr:
    """The WHERE condition on ``ChargingSession`` for this viewer at this node."""
    s = ChargingSession
    if viewer.role in ("admin", "support"):
        role_cond: Expr = _EVERYTHING
    elif viewer.role == "site-admin":
        if viewer.site_id is None:
            return _NOTHING
        role_cond = s.site == viewer.site_id
    elif viewer.role == "ev-user":
        if viewer.user_id is None:
            return _NOTHING
        own_tags = IdTag.select(IdTag.id_tag).where(IdTag.user == viewer.user_id)
        # a session is his when attributed to him, or to one of his tags and to nobody else
        # (COALESCE keeps SQLite from scanning every anonymous session through the
        # user index: the id_tag index finds the tag's sessions)
        role_cond = (s.user == viewer.user_id) | (
            s.id_tag.in_(own_tags) & (fn.COALESCE(s.user, 0) == 0)
        )
    else:
        return _NOTHING
    if node.kind == "system":
        return role_cond
    if node.kind == "site":
        node_cond = s.site == node.id
    elif node.kind == "floor":
        node_cond = s.station.in_(Station.select(Station.id).where(Station.floor == node.id))
    elif node.kind == "station":
        node_cond = s.station == node.id
    else:
        node_cond = s.outlet == node.id
    return role_cond & node_cond


def station_scope(viewer: Viewer, node: Node = SYSTEM) -> Expr:
    """The WHERE condition on ``Station`` for this viewer at this node (EV users: none)."""
    if viewer.role in ("admin", "support"):
        role_cond: Expr = _EVERYTHING
    elif viewer.role == "site-admin" and viewer.site_id is not None:
        role_cond = Station.site == viewer.site_id
    else:
        return _NOTHING
    if node.kind == "system":
        return role_cond
    if node.kind == "site":
        return role_cond & (Station.site == node.id)
    if node.kind == "floor":
        return role_cond & (Station.floor == node.id)
    if node.kind == "station":
        return role_cond & (Station.id == node.id)
    return role_cond & Station.id.in_(Outlet.select(Outlet.station).where(Outlet.id == node.id))
