"""Demo data for a new installation: a site, a floor with its plan, three stations, RFID
users, news."""

from __future__ import annotations

from dataclasses import dataclass, field

from db.provisioning import create_id_tag, create_user, provision_station
from db.schema.models import Floor, News, Service, Setting, Site, Station, User

DEMO_SITE = "Solna"
DEMO_FLOOR = "Garage level 1"
DEMO_STATIONS = (("CP-SOLNA-1", 1), ("CP-SOLNA-2", 2), ("CP-SOLNA-4", 4))
#: Where the demo stations stand on the demo floor plan (x, y in 0..1 of the image):
#: along the upper parking row of ``filestore.jpeg.demo_floor_plan``.
DEMO_POSITIONS = ((0.22, 0.28), (0.47, 0.28), (0.72, 0.28))
#: The demo site's address (the map tab has a position to show).
DEMO_ADDRESS = {
    "country": "Sweden",
    "city": "Solna",
    "street": "Frösundaleden",
    "street_number": "2",
    "latitude": 59.3625,
    "longitude": 18.0012,
}
DEMO_USERS = (
    ("anna.berg@example.com", "1000001", "Anna", "Berg"),
    ("erik.lind@example.com", "1000002", "Erik", "Lind"),
)
DEFAULT_SETTINGS = {
    "system_name": "Charge Portal",
    "description": "EV charging fleet",
    "ftp_address": "",
    "ocpp15_address": "",
    "ocpp16_address": "",
}


@dataclass
class Seeded:
    admin_email: str | None = None
    admin_password: str | None = None
    lines: list[str] = field(default_factory=list)


def ensure_settings() -> None:
    for key, value in DEFAULT_SETTINGS.items():
        Setting.get_or_create(key=key, defaults={"value": value})


def create_first_admin(email: str = "admin@example.com") -> Seeded:
    """The first administrator with a random password, unless an administrator exists."""
    seeded = Seeded()
    if User.select().where(User.role == "admin").exists():
        return seeded
    created = create_user(email, "admin", first_name="Portal", last_name="Administrator")
    seeded.admin_email = email
    seeded.admin_password = created.password
    return seeded


def seed_demo() -> list[str]:
    """The demo topology; returns what was created, one line each."""
    lines = []
    for index, (cbid, outlets) in enumerate(DEMO_STATIONS):
        provision_station(
            cbid,
            site=DEMO_SITE,
            floor=DEMO_FLOOR,
            outlets=outlets,
            name=f"Solna garage {index + 1}",
            mode="OPEN" if outlets == 1 else "RFID",
        )
        lines.append(f"station {cbid} with {outlets} outlet(s) at {DEMO_SITE} / {DEMO_FLOOR}")
    lines.append(_demo_floor_plan())
    for email, rfid, first, last in DEMO_USERS:
        created = create_user(email, "ev-user", rfid=rfid, first_name=first, last_name=last)
        lines.append(f"EV user {email} with RFID {rfid} (password {created.password})")
    create_id_tag("DEMOBLOCKED", status="Blocked")
    lines.append("id tag DEMOBLOCKED (Blocked)")
    Service.get_or_create(
        name="Public map", defaults={"kind": "map", "description": "Publishes stations on a map"}
    )
    Service.get_or_create(
        name="Payment", defaults={"kind": "payment", "description": "Pay-per-session service"}
    )
    News.create(title="Welcome to Charge Portal", body="Demo data has been loaded.")
    return lines


def _demo_floor_plan() -> str:
    """The demo floor gets a plan and its stations a place on it (the floor tab is not
    empty on first run); the demo site an address."""
    from filestore.jpeg import demo_floor_plan

    site = Site.get(Site.name == DEMO_SITE)
    for name, value in DEMO_ADDRESS.items():
        if not getattr(site, name, None):
            setattr(site, name, value)
    site.save()
    floor = Floor.get((Floor.site == site) & (Floor.name == DEMO_FLOOR))
    if floor.plan_image is None:
        floor.plan_image = demo_floor_plan()
        floor.plan_name = "Garage level 1 plan"
        floor.save()
    for (cbid, _), (x, y) in zip(DEMO_STATIONS, DEMO_POSITIONS, strict=True):
        Station.update(pos_x=x, pos_y=y).where(
            (Station.charge_box_id == cbid) & Station.pos_x.is_null()
        ).execute()
    return f"floor plan for {DEMO_SITE} / {DEMO_FLOOR} with the demo stations placed on it"
