"""Which stations are connected, and the run-time state of every station seen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.state import StationState

if TYPE_CHECKING:
    from gateway.actor import StationActor

__all__ = ["Registry"]


class Registry:
    """Connected actors by charge box id, plus the state that outlives a connection."""

    def __init__(self) -> None:
        self._actors: dict[str, StationActor] = {}
        self._states: dict[str, StationState] = {}

    def state_for(self, charge_box_id: str, station_id: int, site_id: int | None) -> StationState:
        """The station's state, created on first sight; ids refreshed from the database."""
        state = self._states.get(charge_box_id)
        if state is None or state.station_id != station_id:
            state = self._states[charge_box_id] = StationState(charge_box_id, station_id, site_id)
        state.site_id = site_id
        return state

    def state(self, charge_box_id: str) -> StationState | None:
        return self._states.get(charge_box_id)

    def states(self) -> list[StationState]:
        return list(self._states.values())

    def register(self, actor: StationActor) -> StationActor | None:
        """Make ``actor`` the station's connection; returns the one it replaces."""
        previous = self._actors.get(actor.charge_box_id)
        self._actors[actor.charge_box_id] = actor
        return previous if previous is not actor else None

    def unregister(self, actor: StationActor) -> bool:
        """Forget ``actor`` unless a newer connection already took its place."""
        if self._actors.get(actor.charge_box_id) is actor:
            del self._actors[actor.charge_box_id]
            return True
        return False

    def actor(self, charge_box_id: str) -> StationActor | None:
        return self._actors.get(charge_box_id)

    def online(self) -> list[str]:
        return sorted(self._actors)

    def __len__(self) -> int:
        return len(self._actors)
