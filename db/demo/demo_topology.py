"""Demo sites, stations with outlets, and EV users with RFID tags, for generated sessions."""

from __future__ import annotations

import random

import peewee

from db.schema.models import IdTag, Outlet, Site, Station, User

__all__ = ["DEMO_SITES", "ensure_demo_topology"]

DEMO_SITES = ("Solna", "Kista", "Göteborg Hamn", "Malmö Central", "Uppsala Science Park")


def ensure_demo_topology(
    database: peewee.Database, *, outlets: int, users: int, seed: int = 1
) -> tuple[int, int]:
    """Make sure at least ``outlets`` outlets and ``users`` EV users with tags exist.

    Returns (stations added, users added). Existing data is kept; demo stations get
    ids ``DEMO-0001``…, demo users ``ev00001@demo.invalid`` (no password: they
    cannot log in until an administrator sets one).
    """
    rng = random.Random(seed)
    stations_added = users_added = 0
    with database.atomic():
        sites = list(Site.select().order_by(Site.id))
        if not sites:
            sites = [Site.create(name=name, city=name.split()[0]) for name in DEMO_SITES]
        have = Outlet.select().count()
        if have < outlets:
            existing = {s.charge_box_id for s in Station.select(Station.charge_box_id)}
            number = 1
            while have < outlets:
                cbid = f"DEMO-{number:04d}"
                number += 1
                if cbid in existing:
                    continue
                site = sites[(number - 2) % len(sites)]
                station = Station.create(
                    charge_box_id=cbid,
                    name=f"{site.name} P{(number - 2) // len(sites) + 1}",
                    site=site,
                    vendor="Demo",
                    model=rng.choice(("Wallbox 22", "Pillar 2x22", "Pole 11")),
                )
                count = min(2, outlets - have) if outlets - have > 0 else 2
                Outlet.insert_many(
                    [{"station": station.id, "connector_id": c} for c in range(1, count + 1)]
                ).execute()
                have += count
                stations_added += 1
        have_users = (
            User.select()
            .join(IdTag, on=IdTag.user == User.id)
            .where(User.role == "ev-user")
            .count()
        )
        if have_users < users:
            existing_emails = {u.email for u in User.select(User.email)}
            existing_tags = {t.id_tag for t in IdTag.select(IdTag.id_tag)}
            new_users: list[str] = []
            number = 0
            while len(new_users) < users - have_users:
                number += 1
                email = f"ev{number:05d}@demo.invalid"
                if email not in existing_emails:
                    new_users.append(email)
            for start in range(0, len(new_users), 500):
                chunk = new_users[start : start + 500]
                User.insert_many(
                    [
                        {"email": e, "first_name": "Demo", "last_name": e[:7], "role": "ev-user"}
                        for e in chunk
                    ]
                ).execute()
            ids = dict(User.select(User.email, User.id).where(User.email.in_(new_users)).tuples())
            tags = []
            for email in new_users:
                tag = str(rng.randrange(10**9, 10**10))
                while tag in existing_tags:
                    tag = str(rng.randrange(10**9, 10**10))
                existing_tags.add(tag)
                tags.append({"id_tag": tag, "user": ids[email], "note": "demo"})
            for start in range(0, len(tags), 500):
                IdTag.insert_many(tags[start : start + 500]).execute()
            users_added = len(new_users)
    return stations_added, users_added
