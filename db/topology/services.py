"""Third-party services (SPEC §9.1 Services): a map service, a payment service; enable/disable."""

from __future__ import annotations

import json
from typing import Any

from db.config_errors import NotFoundError
from db.schema.models import Service

#: Offered out of the box, disabled until the operator enables them.
DEFAULT_SERVICES = (
    {
        "name": "Public map",
        "kind": "map",
        "description": "Publishes stations and their availability on a public map.",
        "url": "https://map.example.org/api",
        "info": {"publishes": ["position", "connector type", "availability"]},
    },
    {
        "name": "Payment",
        "kind": "payment",
        "description": "Starts and stops charging for paying drivers by outlet UUID.",
        "url": "https://pay.example.org/api",
        "info": {"uses": ["outlet UUID", "remote start/stop"]},
    },
)


def ensure_default_services() -> None:
    for spec in DEFAULT_SERVICES:
        if Service.get_or_none(Service.name == spec["name"]) is None:
            Service.create(
                name=spec["name"],
                kind=spec["kind"],
                description=spec["description"],
                url=spec["url"],
                info=json.dumps(spec["info"]),
            )


def service_view(service: Service) -> dict[str, Any]:
    try:
        info = json.loads(service.info or "{}")
    except ValueError:
        info = {}
    return {
        "id": service.id,
        "name": service.name,
        "kind": service.kind,
        "description": service.description,
        "url": service.url,
        "enabled": bool(service.enabled),
        "info": info,
    }


def list_services() -> list[dict[str, Any]]:
    return [service_view(s) for s in Service.select().order_by(Service.name)]


def set_service_enabled(service_id: int, enabled: bool) -> dict[str, Any]:
    service = Service.get_or_none(Service.id == service_id)
    if service is None:
        raise NotFoundError(f"No service {service_id}.")
    service.enabled = enabled
    service.save()
    return service_view(service)
