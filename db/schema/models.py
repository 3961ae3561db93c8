"""peewee models for the whole of SPEC.md; times are naive UTC datetimes."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import TYPE_CHECKING

import peewee as pw

from db.engine.connection import database_proxy

if TYPE_CHECKING:
    # peewee adds ``id``, ``<fk>_id`` and back-references at run time, which its stubs
    # cannot see: type-check model classes as dynamic rather than ignore every query.
    from typing import Any as _Model
else:
    _Model = pw.Model


_EPOCH = dt.datetime(1970, 1, 1)


def utcnow() -> dt.datetime:
    """Naive UTC now, the form every timestamp column stores.

    The epoch plus the clock's microseconds: the same value as
    ``datetime.now(UTC).replace(tzinfo=None)`` in a third of the time (``replace`` alone
    costs ~1 us; the gateway takes the time three times per station message).
    """
    return _EPOCH + dt.timedelta(microseconds=time.time_ns() // 1000)


class BaseModel(_Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


# --- system ----------------------------------------------------------------


class Setting(BaseModel):
    """System-level settings (SPEC §9.1 General): name, description, server addresses."""

    key = pw.CharField(primary_key=True, max_length=64)
    value = pw.TextField(default="")


class SchemaVersion(BaseModel):
    """Applied numbered migrations."""

    version = pw.IntegerField(primary_key=True)
    name = pw.CharField(max_length=128)
    applied_at = pw.DateTimeField(default=utcnow)


# --- topology (SPEC §4, §9) --------------------------------------------------


class Site(BaseModel):
    name = pw.CharField(unique=True, max_length=128)
    identification = pw.CharField(default="", max_length=128)
    description = pw.TextField(default="")
    country = pw.CharField(default="", max_length=64)
    city = pw.CharField(default="", max_length=128)
    street = pw.CharField(default="", max_length=128)
    street_number = pw.CharField(default="", max_length=32)
    latitude = pw.FloatField(null=True)
    longitude = pw.FloatField(null=True)
    # IANA name; "" = the system zone. The column default is migration m0004's
    time_zone = pw.CharField(default="", max_length=64, constraints=[pw.SQL("DEFAULT ''")])
    created_at = pw.DateTimeField(default=utcnow)


class Floor(BaseModel):
    site = pw.ForeignKeyField(Site, backref="floors", on_delete="RESTRICT")
    name = pw.CharField(max_length=128)
    plan_name = pw.CharField(default="", max_length=128)
    plan_image = pw.BlobField(null=True)  # JPEG, at most 2 MB (SPEC §9.3)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("site", "name"), True),)


class Station(BaseModel):
    """A charging station (or network controller) known to the portal."""

    charge_box_id = pw.CharField(unique=True, max_length=64)
    name = pw.CharField(default="", max_length=128)
    description = pw.TextField(default="")
    node_type = pw.CharField(default="station", max_length=16)  # station | controller
    site = pw.ForeignKeyField(Site, backref="stations", null=True, on_delete="RESTRICT")
    floor = pw.ForeignKeyField(Floor, backref="stations", null=True, on_delete="RESTRICT")
    pos_x = pw.FloatField(null=True)  # position on the floor plan, 0..1
    pos_y = pw.FloatField(null=True)
    # address when not on a floor (SPEC §9.4)
    country = pw.CharField(default="", max_length=64)
    city = pw.CharField(default="", max_length=128)
    street = pw.CharField(default="", max_length=128)
    street_number = pw.CharField(default="", max_length=32)
    latitude = pw.FloatField(null=True)
    longitude = pw.FloatField(null=True)
    # OCPP
    password_hash = pw.CharField(null=True, max_length=255)  # security profile 1/2
    protocol = pw.CharField(default="1.6", max_length=8)  # 1.5 | 1.6
    soap_endpoint = pw.CharField(default="", max_length=255)  # OCPP 1.5 chargeBoxAddress
    registration_status = pw.CharField(default="Accepted", max_length=16)
    vendor = pw.CharField(default="", max_length=64)
    model = pw.CharField(default="", max_length=64)
    serial_number = pw.CharField(default="", max_length=64)
    box_serial_number = pw.CharField(default="", max_length=64)
    firmware_version = pw.CharField(default="", max_length=64)
    iccid = pw.CharField(default="", max_length=64)
    imsi = pw.CharField(default="", max_length=64)
    meter_type = pw.CharField(default="", max_length=64)
    meter_serial_number = pw.CharField(default="", max_length=64)
    last_boot_at = pw.DateTimeField(null=True)
    last_seen_at = pw.DateTimeField(null=True)
    first_connected_at = pw.DateTimeField(null=True)
    config_imported_at = pw.DateTimeField(null=True)
    local_list_version = pw.IntegerField(default=0)
    firmware_status = pw.CharField(default="", max_length=32)
    diagnostics_status = pw.CharField(default="", max_length=32)
    created_at = pw.DateTimeField(default=utcnow)
    # OCPP 1.6 security profile (0 none, 1 password, 2 TLS + password, 3 TLS + client
    # certificate): connections below it are refused. ``security_profile_pending``: an
    # upgrade the station accepted (ChangeConfiguration SecurityProfile), stored as the
    # profile once it reconnects with it, dropped when it falls back (m0015).
    security_profile = pw.SmallIntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")])
    security_profile_pending = pw.SmallIntegerField(null=True)
    # the station's client certificate: the last one it presented, or that our CA signed
    certificate_subject = pw.CharField(
        default="", max_length=255, constraints=[pw.SQL("DEFAULT ''")]
    )
    certificate_expires_at = pw.DateTimeField(null=True)


def new_uuid() -> str:
    return str(uuid.uuid4())


class Outlet(BaseModel):
    """An outlet socket or tethered cable; OCPP connectorId 1..4 (SPEC §9.5)."""

    station = pw.ForeignKeyField(Station, backref="outlets", on_delete="CASCADE")
    connector_id = pw.SmallIntegerField()
    connector_type = pw.CharField(default="Type 2", max_length=32)
    uuid = pw.CharField(unique=True, max_length=36, default=new_uuid)
    parking = pw.CharField(default="", max_length=128)
    mode = pw.CharField(default="RFID", max_length=8)  # OPEN | RFID
    # last known state, kept for the portal when the station is offline
    status = pw.CharField(default="Unknown", max_length=24)
    error_code = pw.CharField(default="NoError", max_length=32)
    status_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("station", "connector_id"), True),)


class Service(BaseModel):
    """A third-party service (map, payment) that only the operator enables (SPEC §9.1)."""

    name = pw.CharField(unique=True, max_length=64)
    kind = pw.CharField(default="map", max_length=32)
    description = pw.TextField(default="")
    url = pw.CharField(default="", max_length=255)
    enabled = pw.BooleanField(default=False)
    info = pw.TextField(default="{}")  # JSON


class OutletExternalId(BaseModel):
    outlet = pw.ForeignKeyField(Outlet, backref="external_ids", on_delete="CASCADE")
    service = pw.ForeignKeyField(Service, backref="outlet_ids", on_delete="CASCADE")
    external_id = pw.CharField(max_length=128)

    class Meta:
        indexes = ((("outlet", "service"), True),)


# --- accounts (SPEC §2, §7) ------------------------------------------------

ROLES = ("admin", "site-admin", "ev-user", "support")


class User(BaseModel):
    email = pw.CharField(unique=True, max_length=254)
    first_name = pw.CharField(default="", max_length=64)
    last_name = pw.CharField(default="", max_length=64)
    role = pw.CharField(max_length=16)  # one of ROLES
    site = pw.ForeignKeyField(Site, backref="users", null=True, on_delete="RESTRICT")
    password_hash = pw.CharField(null=True, max_length=255)
    email_at_alarm = pw.BooleanField(default=False)
    dashboard_panels = pw.CharField(default="", max_length=255)  # comma separated
    auth_version = pw.IntegerField(default=0)  # bumped on password change: ends sessions
    # display zone; "" = the system zone. The column default is migration m0004's
    time_zone = pw.CharField(default="", max_length=64, constraints=[pw.SQL("DEFAULT ''")])
    created_at = pw.DateTimeField(default=utcnow)
    last_login_at = pw.DateTimeField(null=True)


# Addresses compare without case (login, "already used"): migration m0012's index.
User.add_index(pw.SQL('CREATE INDEX IF NOT EXISTS "user_email_lower" ON "user" (LOWER("email"))'))


class IdTag(BaseModel):
    """An OCPP idTag (RFID badge as decimal string, or app token)."""

    id_tag = pw.CharField(unique=True, max_length=20)
    status = pw.CharField(default="Accepted", max_length=16)  # Accepted|Blocked|Expired|Invalid
    expiry_date = pw.DateTimeField(null=True)
    parent = pw.ForeignKeyField("self", backref="children", null=True, on_delete="SET NULL")
    user = pw.ForeignKeyField(User, backref="id_tags", null=True, on_delete="SET NULL")
    note = pw.CharField(default="", max_length=255)
    created_at = pw.DateTimeField(default=utcnow)


class ApiToken(BaseModel):
    """JSON API token: only its hash is stored; scoped to a role and optionally a site."""

    name = pw.CharField(max_length=128)
    token_hash = pw.CharField(unique=True, max_length=128)
    prefix = pw.CharField(max_length=12)
    role = pw.CharField(max_length=16)
    site = pw.ForeignKeyField(Site, null=True, on_delete="CASCADE")
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)
    last_used_at = pw.DateTimeField(null=True)
    revoked = pw.BooleanField(default=False)
    expires_at = pw.DateTimeField(null=True)  # None: never (m0008)


# --- charging sessions (SPEC §6) --------------------------------------------


#: ``ChargingSession.authentication`` values.
AUTH_ANONYMOUS, AUTH_RFID, AUTH_REFUSED = 0, 1, 2


class ChargingSession(BaseModel):
    """One charging session = one OCPP transaction; ``id`` is the transactionId."""

    station = pw.ForeignKeyField(Station, backref="sessions", null=True, on_delete="SET NULL")
    charge_box_id = pw.CharField(max_length=64, index=True)  # node identity, kept if removed
    station_name = pw.CharField(default="", max_length=128)
    site_name = pw.CharField(default="", max_length=128)
    site = pw.ForeignKeyField(Site, null=True, on_delete="SET NULL")
    outlet = pw.ForeignKeyField(Outlet, null=True, on_delete="SET NULL")
    connector_id = pw.SmallIntegerField()
    id_tag = pw.CharField(default="", max_length=20)
    user = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    user_email = pw.CharField(default="", max_length=254)  # kept when the user is deleted
    # 0 Anonymous, 1 RFID (a badge the system approved), 2 Refused (AUTH_REFUSED: the
    # start was answered Invalid/Blocked/Expired/ConcurrentTx; kept for audit only)
    authentication = pw.SmallIntegerField(default=0)
    reservation_id = pw.IntegerField(null=True)
    start_time = pw.DateTimeField(index=True)
    end_time = pw.DateTimeField(null=True, index=True)
    meter_start = pw.BigIntegerField()  # Wh
    meter_stop = pw.BigIntegerField(null=True)  # Wh
    meter_last = pw.BigIntegerField(null=True)  # latest reading while running (Wh)
    energy_wh = pw.BigIntegerField(default=0)
    stop_reason = pw.CharField(default="", max_length=32)
    stop_id_tag = pw.CharField(default="", max_length=20)
    server_date = pw.DateTimeField(default=utcnow)  # when the portal received it
    stopped_server_date = pw.DateTimeField(null=True)

    class Meta:
        indexes = (
            # a re-sent StartTransaction is recognised by this key (idempotency)
            (("charge_box_id", "connector_id", "id_tag", "start_time", "meter_start"), True),
            (("site", "start_time"), False),
            (("station", "start_time"), False),
            (("user", "start_time"), False),
            # ConcurrentTx: is this id tag in a running session? (migration m0002)
            (("id_tag", "end_time"), False),
        )


class MeterSample(BaseModel):
    """One sampled value from MeterValues or StopTransaction.transactionData."""

    # (session, timestamp) below serves lookups by session and its cascade
    session = pw.ForeignKeyField(
        ChargingSession, backref="samples", null=True, on_delete="CASCADE", index=False
    )
    # The station's id, deliberately not a foreign key: a station-led index would put
    # every MeterValues on its own random index page (one per station per commit), and
    # a foreign key without one would scan the table when a station is deleted. Samples
    # are reached through their session (db.topology.nodes.remove_station). Migration m0005.
    station_id = pw.IntegerField(null=True)
    connector_id = pw.SmallIntegerField()
    timestamp = pw.DateTimeField()
    measurand = pw.CharField(default="Energy.Active.Import.Register", max_length=64)
    # plain readings are short numbers; signed ones (OCMF) hundreds of characters (m0010)
    value = pw.CharField(max_length=4096)
    unit = pw.CharField(default="Wh", max_length=16)
    context = pw.CharField(default="Sample.Periodic", max_length=32)
    phase = pw.CharField(default="", max_length=8)
    location = pw.CharField(default="", max_length=16)
    format = pw.CharField(default="Raw", max_length=16)

    class Meta:
        indexes = (
            # a re-sent MeterValues adds nothing. Time first: every station's new samples
            # land on the same few right-hand pages instead of one page per station
            (
                (
                    "timestamp",
                    "station_id",
                    "connector_id",
                    "measurand",
                    "phase",
                    "location",
                    "context",
                ),
                True,
            ),
            (("session", "timestamp"), False),
        )


class OcppMessage(BaseModel):
    """Transaction-related OCPP messages kept for the session details page."""

    station = pw.ForeignKeyField(Station, null=True, on_delete="CASCADE")
    charge_box_id = pw.CharField(max_length=64)
    session = pw.ForeignKeyField(ChargingSession, null=True, on_delete="CASCADE")
    received_at = pw.DateTimeField(default=utcnow)
    direction = pw.CharField(max_length=4)  # in | out
    action = pw.CharField(max_length=48)
    unique_id = pw.CharField(max_length=64)
    payload = pw.TextField()

    class Meta:
        indexes = ((("session", "received_at"), False),)


class OcppFrame(BaseModel):
    """Every OCPP-J frame of a station, both ways (Call, CallResult, CallError), as on the
    wire: the station's message log. Written in batches beside the station's own writes,
    kept per station up to a count and an age (``GatewayConfig.frame_log_*``, m0014)."""

    # not a foreign key: a frame logged just as its station is removed must not fail the
    # batch it rides in; db.topology.nodes.remove_station deletes a station's frames
    station_id = pw.IntegerField()
    charge_box_id = pw.CharField(max_length=64)
    at = pw.DateTimeField(index=True)  # age retention
    direction = pw.CharField(max_length=4)  # in | out
    message_type = pw.CharField(max_length=10)  # Call | CallResult | CallError | Malformed
    unique_id = pw.CharField(max_length=64)
    action = pw.CharField(max_length=48)  # a reply's: the action of the Call it answers
    payload = pw.TextField()  # the whole frame text

    class Meta:
        # a station's frames: by bucket of ids, then station (m0022, db/ocpp/frame_log.py)
        indexes = (
            pw.SQL(
                'CREATE INDEX IF NOT EXISTS "ocpp_frame_bucket_station_id"'
                ' ON "ocpp_frame" (("id" >> 16), "station_id")'
            ),
        )


class ConnectionEvent(BaseModel):
    """A station's connection opened or closed (OCPP-J), with why: the online intervals."""

    station_id = pw.IntegerField()  # not a foreign key, as OcppFrame
    charge_box_id = pw.CharField(max_length=64)
    at = pw.DateTimeField(index=True)
    kind = pw.CharField(max_length=12)  # connected | disconnected
    reason = pw.CharField(max_length=255)
    remote = pw.CharField(max_length=64)

    class Meta:
        indexes = ((("station_id", "at"), False),)


# --- station configuration and control (SPEC §9.4, §10) ----------------------


class ConfigurationKey(BaseModel):
    station = pw.ForeignKeyField(Station, backref="config_keys", on_delete="CASCADE")
    key = pw.CharField(max_length=64)
    value = pw.TextField(null=True)
    readonly = pw.BooleanField(default=False)
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("station", "key"), True),)


class Reservation(BaseModel):
    """A reservation; ``id`` is the OCPP reservationId."""

    station = pw.ForeignKeyField(Station, backref="reservations", on_delete="CASCADE")
    connector_id = pw.SmallIntegerField()
    id_tag = pw.CharField(max_length=20)
    parent_id_tag = pw.CharField(default="", max_length=20)
    expiry_date = pw.DateTimeField()
    status = pw.CharField(default="Requested", max_length=16)  # Requested|Accepted|Used|...
    created_at = pw.DateTimeField(default=utcnow)
    session = pw.ForeignKeyField(ChargingSession, null=True, on_delete="SET NULL")


class ChargingSchedule(BaseModel):
    """A weekly schedule of power limits for a site, station or outlet (SPEC §10)."""

    name = pw.CharField(max_length=128)
    site = pw.ForeignKeyField(Site, null=True, on_delete="CASCADE")
    station = pw.ForeignKeyField(Station, null=True, on_delete="CASCADE")
    outlet = pw.ForeignKeyField(Outlet, null=True, on_delete="CASCADE")
    purpose = pw.CharField(default="TxDefaultProfile", max_length=32)
    stack_level = pw.IntegerField(default=0)
    rate_unit = pw.CharField(default="W", max_length=2)  # W | A
    periods = pw.TextField(default="[]")  # JSON: [{weekday, start, end, limit, available}]
    created_at = pw.DateTimeField(default=utcnow)
    pushed_at = pw.DateTimeField(null=True)


class ChargingProfile(BaseModel):
    """A charging profile as sent to a station (SetChargingProfile)."""

    station = pw.ForeignKeyField(Station, backref="charging_profiles", on_delete="CASCADE")
    connector_id = pw.SmallIntegerField(default=0)
    profile_id = pw.IntegerField()
    purpose = pw.CharField(max_length=32)
    stack_level = pw.IntegerField(default=0)
    schedule = pw.ForeignKeyField(ChargingSchedule, null=True, on_delete="SET NULL")
    profile = pw.TextField()  # JSON, as on the wire
    status = pw.CharField(default="", max_length=16)  # station's answer
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("station", "profile_id"), False),)


class LocalListEntry(BaseModel):
    """What the portal last sent in SendLocalList to a station."""

    station = pw.ForeignKeyField(Station, backref="local_list", on_delete="CASCADE")
    id_tag = pw.CharField(max_length=20)
    status = pw.CharField(max_length=16)
    expiry_date = pw.DateTimeField(null=True)
    parent_id_tag = pw.CharField(default="", max_length=20)

    class Meta:
        indexes = ((("station", "id_tag"), True),)


class FirmwareImage(BaseModel):
    filename = pw.CharField(unique=True, max_length=255)
    version = pw.CharField(default="", max_length=64)
    size = pw.BigIntegerField(default=0)
    sha256 = pw.CharField(default="", max_length=64)
    uploaded_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    uploaded_at = pw.DateTimeField(default=utcnow)


class DiagnosticsFile(BaseModel):
    station = pw.ForeignKeyField(Station, null=True, on_delete="SET NULL")
    charge_box_id = pw.CharField(max_length=64)
    filename = pw.CharField(max_length=255)
    path = pw.CharField(max_length=512)
    size = pw.BigIntegerField(default=0)
    received_at = pw.DateTimeField(default=utcnow)


class CertificateRequest(BaseModel):
    """A station's SignCertificate (OCPP 1.6 security): its CSR and what became of it.

    ``status``: Pending (waiting for an external CA: the operator sends its certificate
    with the certificate-signed command), Sent (signed by the configured CA, sent with
    CertificateSigned), Installed / Rejected (the station's answer), Failed (``detail``).
    """

    station = pw.ForeignKeyField(Station, null=True, on_delete="CASCADE")
    charge_box_id = pw.CharField(max_length=64, index=True)
    csr = pw.TextField()
    status = pw.CharField(max_length=16)
    detail = pw.CharField(default="", max_length=255)
    received_at = pw.DateTimeField(default=utcnow)
    updated_at = pw.DateTimeField(default=utcnow)


class InstalledCertificates(BaseModel):
    """A station's answer to GetInstalledCertificateIds for one certificate use: the hash
    data of its installed roots (a JSON list; [] for NotFound) and when it was read.
    A later DeleteCertificate the station accepts takes its entry out; an accepted
    InstallCertificate of that use marks the list out of date (``installed_since``)."""

    station = pw.ForeignKeyField(Station, on_delete="CASCADE")
    certificate_type = pw.CharField(max_length=48)
    hash_data = pw.TextField()
    read_at = pw.DateTimeField()
    installed_since = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("station", "certificate_type"), True),)


# --- supervision (SPEC §8) ---------------------------------------------------

ALARM_KINDS = (
    "Not registered",
    "Hardware fault",
    "Configuration mismatch",
    "Fuse",
    "Temperature",
    "No network",
    "Security event",  # a critical SecurityEventNotification (OCPP 1.6 security)
    "Certificate expiring",  # a station's client certificate expires within 30 days
)


class Alarm(BaseModel):
    """An alarm; active while ``cleared_at`` is null, history afterwards."""

    kind = pw.CharField(max_length=32)  # one of ALARM_KINDS
    station = pw.ForeignKeyField(Station, null=True, on_delete="CASCADE")
    charge_box_id = pw.CharField(max_length=64)
    site = pw.ForeignKeyField(Site, null=True, on_delete="SET NULL")
    connector_id = pw.SmallIntegerField(default=0)
    message = pw.TextField(default="")
    raised_at = pw.DateTimeField(default=utcnow)
    cleared_at = pw.DateTimeField(null=True, index=True)
    count = pw.IntegerField(default=1)
    # acknowledged by a person (an e-mail, kept if the account goes), when, and why
    acknowledged_at = pw.DateTimeField(null=True)
    acknowledged_by = pw.CharField(default="", max_length=254, constraints=[pw.SQL("DEFAULT ''")])
    ack_comment = pw.TextField(default="", constraints=[pw.SQL("DEFAULT ''")])

    class Meta:
        indexes = ((("charge_box_id", "kind", "connector_id", "cleared_at"), False),)


class Event(BaseModel):
    """The event log (SPEC §8)."""

    time = pw.DateTimeField(default=utcnow, index=True)
    kind = pw.CharField(max_length=48)
    station = pw.ForeignKeyField(Station, null=True, on_delete="SET NULL")
    charge_box_id = pw.CharField(default="", max_length=64, index=True)
    site = pw.ForeignKeyField(Site, null=True, on_delete="SET NULL")
    severity = pw.CharField(default="info", max_length=8)  # info | warning | error
    message = pw.TextField(default="")


class AlarmDigest(BaseModel):
    """One user's daily alarm e-mail (SPEC §7) for one local day of the system zone: the
    durable record that makes it go out once, whichever process sends it and however often
    the server restarts. ``status``: pending (due at ``next_attempt_at``), sending (claimed
    by ``claimed_by`` until ``lease_until``), sent, skipped (nothing to say) or failed."""

    user = pw.ForeignKeyField(User, on_delete="CASCADE", index=False)
    day = pw.CharField(max_length=10)  # YYYY-MM-DD, local day of the system zone
    status = pw.CharField(max_length=8, index=True)
    attempts = pw.IntegerField(default=0)
    next_attempt_at = pw.DateTimeField()
    lease_until = pw.DateTimeField(null=True)
    claimed_by = pw.CharField(default="", max_length=64)
    covered_until = pw.DateTimeField(null=True)  # the alarms it listed were as of then
    detail = pw.TextField(default="")  # the server's answer, or why it was not sent
    created_at = pw.DateTimeField(default=utcnow)
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "day"), True),)


class News(BaseModel):
    title = pw.CharField(max_length=200)
    body = pw.TextField(default="")
    author = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    published_at = pw.DateTimeField(default=utcnow, index=True)


class ClusterNode(BaseModel):
    """A process of a cluster on PostgreSQL and its lease (``db.system.cluster``)."""

    node_id = pw.CharField(max_length=100, primary_key=True)
    role = pw.CharField(max_length=16)  # all | gateway | portal
    host = pw.CharField(max_length=255)
    pid = pw.IntegerField()
    started_at = pw.DateTimeField()
    renewed_at = pw.DateTimeField()


class StationPresence(BaseModel):
    """Which node holds a station's connection (its lease renewed with the node's)."""

    charge_box_id = pw.CharField(max_length=64, primary_key=True)
    node_id = pw.CharField(max_length=100, index=True)
    connected_at = pw.DateTimeField()
    renewed_at = pw.DateTimeField()


class ClusterCommand(BaseModel):
    """A command routed to the node holding its station: queued, claimed, then done,
    failed, expired (never sent) or lost (its node died after taking it)."""

    id = pw.BigAutoField()
    charge_box_id = pw.CharField(max_length=64)
    node_id = pw.CharField(max_length=100)
    action = pw.CharField(max_length=64)
    body = pw.TextField()  # the command (gateway.cluster.codec)
    deadline = pw.DoubleField()  # unix time
    state = pw.CharField(max_length=16)
    result = pw.TextField(null=True)  # the result or the error, as JSON
    created_at = pw.DateTimeField()
    claimed_at = pw.DateTimeField(null=True)
    finished_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("node_id", "state"), False),)


class BackupRun(BaseModel):
    """One database backup (daily or by hand): running, ok or failed, and its file."""

    slot = pw.CharField(max_length=40, null=True, unique=True)  # "daily:YYYY-MM-DD": once a day
    kind = pw.CharField(max_length=16)  # daily | manual
    started_at = pw.DateTimeField(index=True)
    finished_at = pw.DateTimeField(null=True)
    result = pw.CharField(max_length=16)  # running | ok | failed
    path = pw.TextField(default="")
    size_bytes = pw.BigIntegerField(default=0)
    sha256 = pw.CharField(max_length=64, default="")
    message = pw.TextField(default="")


class AuthFailure(BaseModel):
    """A failed password (portal login or station Basic auth), counted by the throttles of
    every process (``db.accounts.auth_failures``); kept for a day."""

    id = pw.BigAutoField()
    scope = pw.CharField(max_length=16)  # portal | station
    key = pw.CharField(max_length=320)  # "a:<e-mail>", "ip:<address>", "cb:<charge box id>"
    at = pw.DateTimeField(index=True)

    class Meta:
        indexes = ((("scope", "key", "at"), False),)


class RevokedSession(BaseModel):
    """A logged-out session cookie (its SHA-256), refused by every process until it would
    have expired anyway."""

    digest = pw.CharField(max_length=64, primary_key=True)
    expires_at = pw.DateTimeField(index=True)


class ExportJobRecord(BaseModel):
    """An export job (``portal.export_jobs``): its state, progress and finished file, for
    every portal process and after a restart (``db.system.export_job_records``)."""

    id = pw.CharField(max_length=32, primary_key=True)
    owner = pw.CharField(max_length=320)
    fmt = pw.CharField(max_length=8)
    filename = pw.CharField(max_length=128)
    state = pw.CharField(max_length=16)  # counting | running | done | failed | cancelled
    total = pw.BigIntegerField(null=True)
    done = pw.BigIntegerField(default=0)
    error = pw.TextField(default="")
    path = pw.TextField(default="")
    cancel_requested = pw.BooleanField(default=False)
    created_at = pw.DateTimeField()
    updated_at = pw.DateTimeField(index=True)  # also the running job's heartbeat
    finished_at = pw.DateTimeField(null=True)

    class Meta:
        table_name = "export_job"
        indexes = ((("owner", "state"), False),)


ALL_MODELS: list[type[BaseModel]] = [
    Setting,
    SchemaVersion,
    Site,
    Floor,
    Station,
    Outlet,
    Service,
    OutletExternalId,
    User,
    IdTag,
    ApiToken,
    ChargingSession,
    MeterSample,
    OcppMessage,
    OcppFrame,
    ConnectionEvent,
    ConfigurationKey,
    Reservation,
    ChargingSchedule,
    ChargingProfile,
    LocalListEntry,
    FirmwareImage,
    DiagnosticsFile,
    CertificateRequest,
    InstalledCertificates,
    Alarm,
    Event,
    AlarmDigest,
    News,
    ClusterNode,
    StationPresence,
    ClusterCommand,
    BackupRun,
    AuthFailure,
    RevokedSession,
    ExportJobRecord,
]
