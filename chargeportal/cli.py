"""The ``chargeportal`` command line: serve, init-db, station, user, idtag, token, cluster,
backup, restore…"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import peewee

from chargeportal.cli_backup import add_backup_commands, default_backup_dir
from chargeportal.cli_cluster import add_cluster_commands
from chargeportal.cli_common import PROG, fail, in_transaction, open_migrated
from chargeportal.cli_tokens import add_token_commands
from db.demo.seed import create_first_admin, ensure_settings, seed_demo
from db.engine.connection import DatabaseURLError, default_database_url, make_database
from db.ocpp.security_profiles import PROFILE_NAMES, set_security_profile
from db.provisioning import (
    ID_TAG_STATUSES,
    create_id_tag,
    create_user,
    provision_station,
    set_user_password,
    station_id_of,
)
from db.schema.migrate import current_version
from db.schema.models import ROLES, IdTag, Outlet, Site, Station, User
from db.topology.nodes import remove_station
from db.topology.station_settings import set_station_password

if TYPE_CHECKING:
    from chargeportal.serve import ServeOptions

PROFILE_HELP = "OCPP security profile: " + ", ".join(f"{k} {v}" for k, v in PROFILE_NAMES.items())

# the shared helpers under the names this module always used
_open = open_migrated
_in_transaction = in_transaction


# --- commands ----------------------------------------------------------------


def cmd_init_db(args: argparse.Namespace) -> None:
    url = args.db
    try:
        probe = make_database(url)
    except DatabaseURLError as exc:
        fail(str(exc))
    probe.connect()
    is_new = current_version(probe) == 0
    probe.close()
    if args.if_new and not is_new:
        print(f"database {url} exists; left as it is")
        return

    def work() -> list[str]:
        ensure_settings()
        lines = []
        seeded = create_first_admin(args.admin_email)
        if seeded.admin_email:
            lines.append(f"administrator {seeded.admin_email} password {seeded.admin_password}")
            lines.append("  (shown once: note it now; change it with 'chargeportal user passwd')")
        if args.demo and not Station.select().exists():
            lines.extend(seed_demo())
        return lines

    lines = _in_transaction(args, work)
    print(f"database {url} ready")
    for line in lines:
        print(f"  {line}")


def serve_options(args: argparse.Namespace) -> ServeOptions:
    """``serve``'s options; ``--ftp-port -1`` means no FTP server at all."""
    from chargeportal.serve import ServeOptions

    if bool(args.tls_cert) != bool(args.tls_key):
        fail("--tls-cert and --tls-key go together")
    if args.ftp_max_upload_mb < 1:
        fail("--ftp-max-upload-mb is 1 or more")
    if bool(args.csr_ca_cert) != bool(args.csr_ca_key):
        fail("--csr-ca-cert and --csr-ca-key go together")
    if args.csr_sign_command and args.csr_ca_cert:
        fail("--csr-sign-command or --csr-ca-cert/--csr-ca-key, not both")
    if args.tls_client_ca and not args.tls_cert:
        fail("--tls-client-ca needs --tls-cert and --tls-key (profile 3 is over TLS)")
    if args.frame_log < 0:
        fail("--frame-log is 0 (off) or more frames per station")
    from db.backup.daily import parse_time_of_day

    try:
        parse_time_of_day(args.backup_time)
    except ValueError as exc:
        fail(f"--backup-time: {exc}")
    if args.backup_keep_daily < 1 or args.backup_keep_weekly < 0:
        fail("--backup-keep-daily is 1 or more, --backup-keep-weekly 0 or more")
    return ServeOptions(
        db=args.db,
        host=args.host,
        gateway_port=args.gateway_port,
        portal_port=args.portal_port,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        ftp_port=args.ftp_port,
        files_root=args.files_root,
        ftp_max_upload_mb=args.ftp_max_upload_mb,
        max_pending_handshakes=args.max_pending_handshakes,
        stale_session_grace=args.stale_session_grace,
        frame_log=args.frame_log,
        csr_ca_cert=args.csr_ca_cert or "",
        csr_ca_key=args.csr_ca_key or "",
        role=args.role,
        workers=args.workers,
        node_id=args.node_id or "",
        tls_client_ca=args.tls_client_ca or "",
        csr_sign_command=args.csr_sign_command or "",
        backup_dir=args.backup_dir if args.backup_dir is not None else default_backup_dir(args.db),
        backup_time=args.backup_time,
        backup_keep_daily=args.backup_keep_daily,
        backup_keep_weekly=args.backup_keep_weekly,
    )


def cmd_serve(args: argparse.Namespace) -> None:
    from chargeportal.serve import run_serve

    run_serve(serve_options(args))


def cmd_station_add(args: argparse.Namespace) -> None:
    def work() -> Any:
        created = provision_station(
            args.cbid,
            site=args.site,
            floor=args.floor,
            outlets=args.outlets,
            password=args.password,
            mode=args.mode,
        )
        if args.security_profile is not None:
            set_security_profile(int(created.obj.get_id()), args.security_profile)
        return created

    created = _in_transaction(args, work)
    for note in created.notes:
        print(note)
    print(f"station {args.cbid} added with {args.outlets} outlet(s)")


#: Who changed a station's security profile, in the event log.
CLI_WHO = "the command line (chargeportal station set)"


def cmd_station_set(args: argparse.Namespace) -> None:
    if args.security_profile is None:
        fail("nothing to set: give --security-profile")
    profile = _in_transaction(
        args,
        lambda: set_security_profile(station_id_of(args.cbid), args.security_profile, by=CLI_WHO),
    )
    print(f"station {args.cbid}: security profile {profile} ({PROFILE_NAMES[profile]})")


def cmd_station_list(args: argparse.Namespace) -> None:
    def work() -> list[tuple[Any, ...]]:
        rows = []
        query = Station.select(Station, Site).join(Site, peewee.JOIN.LEFT_OUTER)
        for station in query.order_by(Station.charge_box_id):
            outlets = Outlet.select().where(Outlet.station == station).count()
            site = station.site.name if station.site_id else "-"
            seen = (
                station.last_seen_at.isoformat(" ", "seconds") if station.last_seen_at else "never"
            )
            rows.append((station.charge_box_id, site, outlets, station.protocol, seen))
        return rows

    rows = _in_transaction(args, work)
    print(f"{'CHARGE BOX ID':<24} {'SITE':<20} {'OUTLETS':>7} {'OCPP':<5} LAST SEEN (UTC)")
    for cbid, site, outlets, protocol, seen in rows:
        print(f"{cbid:<24} {site:<20} {outlets:>7} {protocol:<5} {seen}")


def cmd_station_remove(args: argparse.Namespace) -> None:
    _in_transaction(args, lambda: remove_station(station_id_of(args.cbid)))
    print(f"station {args.cbid} removed")


def cmd_station_passwd(args: argparse.Namespace) -> None:
    _in_transaction(
        args, lambda: set_station_password(station_id_of(args.cbid), args.password or None)
    )
    print(f"station {args.cbid}: OCPP password {'set' if args.password else 'cleared'}")


def cmd_user_add(args: argparse.Namespace) -> None:
    created = _in_transaction(
        args,
        lambda: create_user(
            args.email,
            args.role,
            site=args.site,
            rfid=args.rfid,
            password=args.password,
            first_name=args.first_name,
            last_name=args.last_name,
            email_at_alarm=args.email_at_alarm,
        ),
    )
    print(f"user {created.obj.email} ({args.role}) added")
    if created.password:
        print(f"password {created.password} (shown once)")


def cmd_user_list(args: argparse.Namespace) -> None:
    def work() -> list[tuple[str, str, str, str]]:
        rows = []
        query = User.select(User, Site).join(Site, peewee.JOIN.LEFT_OUTER).order_by(User.email)
        for user in query:
            tags = ",".join(t.id_tag for t in IdTag.select().where(IdTag.user == user))
            rows.append((user.email, user.role, user.site.name if user.site_id else "-", tags))
        return rows

    print(f"{'E-MAIL':<36} {'ROLE':<11} {'SITE':<20} RFID")
    for email, role, site, tags in _in_transaction(args, work):
        print(f"{email:<36} {role:<11} {site:<20} {tags or '-'}")


def cmd_user_passwd(args: argparse.Namespace) -> None:
    generated = _in_transaction(args, lambda: set_user_password(args.email, args.password))
    print(f"password of {args.email} changed")
    if generated:
        print(f"password {generated} (shown once)")


def cmd_idtag_add(args: argparse.Namespace) -> None:
    _in_transaction(
        args,
        lambda: create_id_tag(
            args.tag, status=args.status, expires=args.expires, parent=args.parent, user=args.user
        ),
    )
    print(f"id tag {args.tag} added ({args.status})")


def cmd_idtag_list(args: argparse.Namespace) -> None:
    def work() -> list[tuple[str, str, str, str, str]]:
        rows = []
        for tag in IdTag.select().order_by(IdTag.id_tag):
            expiry = tag.expiry_date.isoformat(" ", "seconds") if tag.expiry_date else "-"
            parent = tag.parent.id_tag if tag.parent_id else "-"
            owner = tag.user.email if tag.user_id else "-"
            rows.append((tag.id_tag, tag.status, expiry, parent, owner))
        return rows

    print(f"{'ID TAG':<22} {'STATUS':<9} {'EXPIRES (UTC)':<20} {'PARENT':<22} USER")
    for tag, status, expiry, parent, owner in _in_transaction(args, work):
        print(f"{tag:<22} {status:<9} {expiry:<20} {parent:<22} {owner}")


def cmd_demo_data(args: argparse.Namespace) -> None:
    from db.demo.demo_data import generate_sessions

    if args.sessions < 0 or args.days < 1:
        fail("--sessions must be >= 0 and --days >= 1")
    database = _open(args)
    try:
        stats = generate_sessions(database, args.sessions, seed=args.seed, days=args.days)
    finally:
        database.close()
    print(
        f"{stats.sessions} sessions over {args.days} days ({stats.running} still running, "
        f"{stats.rfid} RFID), {stats.stations_added} demo stations and {stats.users_added} "
        f"demo EV users added, in {stats.seconds:.1f} s"
    )


def cmd_stats_rebuild(args: argparse.Namespace) -> None:
    from db.sessions.hourly_charts import rebuild

    database = _open(args)
    try:
        started = time.perf_counter()
        hours, days = rebuild(database)
    finally:
        database.close()
    seconds = time.perf_counter() - started
    print(
        f"session aggregates rebuilt: {hours} site-hours, {days} site-days (per quarter "
        f"hour), {seconds:.1f} s"
    )


# --- the parser ----------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        default=default_database_url(),
        metavar="URL",
        help="database URL (default: $DATABASE_URL, else sqlite:///var/chargeportal.sqlite3)",
    )
    parser = argparse.ArgumentParser(prog=PROG, description="Charge Portal operator tool")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", parents=[common], help="run gateway + portal")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--gateway-port", type=int, default=9000)
    serve.add_argument("--portal-port", type=int, default=8000)
    serve.add_argument("--tls-cert", metavar="FILE")
    serve.add_argument("--tls-key", metavar="FILE")
    serve.add_argument("--ftp-port", type=int, default=2121, help="embedded FTP server (-1: none)")
    serve.add_argument(
        "--ftp-max-upload-mb",
        type=int,
        default=100,
        metavar="MB",
        help="the largest diagnostics upload the FTP server keeps",
    )
    serve.add_argument(
        "--stale-session-grace",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="close a session whose connector stays idle this long (no StopTransaction)",
    )
    serve.add_argument(
        "--frame-log",
        type=int,
        default=1000,
        metavar="N",
        help="OCPP frames kept per station in its message log (0: none; ~14%% more gateway "
        "CPU per message when saturated, BENCHMARKS.md)",
    )
    serve.add_argument("--csr-ca-cert", metavar="FILE", help="CA signing stations' CSRs (PEM)")
    serve.add_argument("--csr-ca-key", metavar="FILE", help="its private key (PEM)")
    serve.add_argument(
        "--csr-sign-command",
        metavar="CMD",
        help="external CA for stations' CSRs instead: reads the CSR (PEM) on stdin, prints"
        " the certificate chain (PEM) on stdout",
    )
    serve.add_argument(
        "--tls-client-ca",
        metavar="FILE",
        help="CA bundle (PEM) verifying stations' client certificates: security profile 3",
    )
    serve.add_argument("--files-root", default="var/files", metavar="DIR")
    serve.add_argument(
        "--max-pending-handshakes",
        type=int,
        default=512,
        metavar="N",
        help="stations still in their WebSocket handshake at once (the oldest is closed)",
    )
    serve.add_argument(
        "--role",
        choices=("all", "gateway", "portal"),
        default="all",
        help="what this process serves (gateway or portal alone: PostgreSQL only)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes sharing the ports with SO_REUSEPORT (above 1: PostgreSQL only)",
    )
    serve.add_argument("--node-id", metavar="NAME", help="this node's name in the cluster")
    serve.add_argument(
        "--backup-dir",
        metavar="DIR",
        help="the daily backup's folder ('' for none; default $CHARGEPORTAL_BACKUP_DIR, "
        "else backups/ beside a SQLite file, else var/backups)",
    )
    serve.add_argument(
        "--backup-time",
        default=os.environ.get("CHARGEPORTAL_BACKUP_TIME", "02:30"),
        metavar="HH:MM",
        help="when the daily backup runs, in the system time zone",
    )
    serve.add_argument("--backup-keep-daily", type=int, default=7, metavar="N")
    serve.add_argument("--backup-keep-weekly", type=int, default=4, metavar="M")
    serve.set_defaults(func=cmd_serve)

    init = sub.add_parser("init-db", parents=[common], help="create the schema (+ demo data)")
    init.add_argument("--demo", action="store_true", help="add a demo site, stations and users")
    init.add_argument("--if-new", action="store_true", help="do nothing when the database exists")
    init.add_argument("--admin-email", default="admin@example.com")
    init.set_defaults(func=cmd_init_db)

    station = sub.add_parser("station", help="stations").add_subparsers(
        dest="station_command", required=True, metavar="ACTION"
    )
    add = station.add_parser("add", parents=[common], help="register a station")
    add.add_argument("cbid", metavar="CBID")
    add.add_argument("--site", metavar="NAME")
    add.add_argument("--floor", metavar="NAME")
    add.add_argument("--outlets", type=int, default=1, metavar="N")
    add.add_argument("--password", metavar="PW", help="OCPP Basic auth password")
    add.add_argument("--mode", choices=("OPEN", "RFID"), default="RFID")
    add.add_argument("--security-profile", type=int, choices=(0, 1, 2, 3), help=PROFILE_HELP)
    add.set_defaults(func=cmd_station_add)
    sset = station.add_parser("set", parents=[common], help="change a station's settings")
    sset.add_argument("cbid", metavar="CBID")
    sset.add_argument("--security-profile", type=int, choices=(0, 1, 2, 3), help=PROFILE_HELP)
    sset.set_defaults(func=cmd_station_set)
    station.add_parser("list", parents=[common]).set_defaults(func=cmd_station_list)
    remove = station.add_parser("remove", parents=[common])
    remove.add_argument("cbid", metavar="CBID")
    remove.set_defaults(func=cmd_station_remove)
    passwd = station.add_parser("passwd", parents=[common], help="set the OCPP password")
    passwd.add_argument("cbid", metavar="CBID")
    passwd.add_argument("--password", metavar="PW", help="empty clears it")
    passwd.set_defaults(func=cmd_station_passwd)

    user = sub.add_parser("user", help="users").add_subparsers(
        dest="user_command", required=True, metavar="ACTION"
    )
    uadd = user.add_parser("add", parents=[common], help="create a user")
    uadd.add_argument("email", metavar="EMAIL")
    uadd.add_argument("--role", required=True, choices=ROLES)
    uadd.add_argument("--site", metavar="NAME")
    uadd.add_argument("--rfid", metavar="DEC")
    uadd.add_argument("--password", metavar="PW", help="default: a random one, printed once")
    uadd.add_argument("--first-name", default="")
    uadd.add_argument("--last-name", default="")
    uadd.add_argument("--email-at-alarm", action="store_true")
    uadd.set_defaults(func=cmd_user_add)
    user.add_parser("list", parents=[common]).set_defaults(func=cmd_user_list)
    upw = user.add_parser("passwd", parents=[common], help="set or reset a password")
    upw.add_argument("email", metavar="EMAIL")
    upw.add_argument("--password", metavar="PW", help="default: a random one, printed once")
    upw.set_defaults(func=cmd_user_passwd)

    idtag = sub.add_parser("idtag", help="id tags").add_subparsers(
        dest="idtag_command", required=True, metavar="ACTION"
    )
    tadd = idtag.add_parser("add", parents=[common], help="create an id tag")
    tadd.add_argument("tag", metavar="TAG")
    tadd.add_argument("--status", choices=ID_TAG_STATUSES, default="Accepted")
    tadd.add_argument("--expires", metavar="ISO")
    tadd.add_argument("--parent", metavar="TAG")
    tadd.add_argument("--user", metavar="EMAIL")
    tadd.set_defaults(func=cmd_idtag_add)
    idtag.add_parser("list", parents=[common]).set_defaults(func=cmd_idtag_list)

    add_token_commands(sub, common)
    add_cluster_commands(sub, common)
    add_backup_commands(sub, common)

    demo = sub.add_parser("demo-data", parents=[common], help="fill a realistic year of sessions")
    demo.add_argument("--sessions", type=int, default=100_000, metavar="N")
    demo.add_argument("--days", type=int, default=365, metavar="N")
    demo.add_argument("--seed", type=int, default=1)
    demo.set_defaults(func=cmd_demo_data)

    stats = sub.add_parser("stats", help="chart aggregates").add_subparsers(
        dest="stats_command", required=True, metavar="ACTION"
    )
    stats.add_parser(
        "rebuild",
        parents=[common],
        help="recompute the chart aggregates (hourly, per day) from the sessions",
    ).set_defaults(func=cmd_stats_rebuild)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
