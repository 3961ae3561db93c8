"""Gateway settings with sensible defaults."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GatewayConfig"]


@dataclass(frozen=True)
class GatewayConfig:
    """Tunables of the OCPP 1.6-J gateway (seconds, bytes)."""

    heartbeat_interval: int = 300  # told to stations in BootNotification.conf
    max_message_size: int = 64 * 1024  # frames over this close the connection (1009)
    command_timeout: float = 30.0  # default deadline of a command: queue + send + answer
    command_queue_size: int = 16  # queued commands per station; full -> StationBusyError
    connect_timeout: float = 20.0  # websocket handshake
    disconnect_timeout: float = 5.0
    # silent longer than factor x heartbeat interval (the gateway's, or the station's own
    # HeartbeatInterval when longer) -> "No network" alarm and the connection is closed
    no_network_factor: float = 2.0
    offline_grace: float = 60.0  # disconnected this long -> "No network" alarm
    supervisor_interval: float = 15.0  # watchdog tick; also flushes last-seen times
    auth_cache_size: int = 100_000  # remembered successful password checks
    import_configuration: bool = True  # GetConfiguration on a station's first boot
    check_own_replies: bool = False  # validate our CALLRESULTs against the schemas (tests)
    # WebSocket pings to stations (0 = off; a station's own WebSocketPingInterval > 0
    # wins); a ping unanswered for pong_timeout closes the connection (half-open TCP)
    ping_interval: float = 60.0
    pong_timeout: float = 30.0
    keep_transaction_messages: bool = True  # raw Start/Stop frames in OcppMessage
    # The station message log (OcppFrame): every OCPP-J frame both ways, written in
    # batches every flush interval off the answer path; per station the newest N are kept,
    # none older than the days; the supervisor trims every clean interval. Off: frames are
    # not kept (connection events still are).
    frame_log: bool = True
    frame_log_per_station: int = 1000
    frame_log_days: float = 14.0
    frame_log_flush_interval: float = 0.5
    frame_log_max_buffered: int = 100_000  # frames waiting beyond this are dropped
    frame_log_clean_interval: float = 300.0
    # The database writer thread needs the GIL back after every statement; while the
    # event loop is busy each hand-back can take the interpreter's switch interval
    # (5 ms by default). A shorter interval keeps commits (and answers) quick under load.
    # Process-wide: set while serve() runs, restored after; None leaves it alone.
    switch_interval: float | None = 0.0005
    # The stations of a committed MeterValues batch get their answers over about this
    # many scheduling rounds, not all in one (0: all at once). A round holding 500
    # answers lasts long, and a station answering an operator's command (a remote
    # start) waits through several rounds at each step of its way (WriteBatcher).
    meter_wake_rounds: int = 4
    # A MeterValues batch goes to the database writer in parts of this many items (0:
    # one job): a command's urgent write, arriving while the batch is written, waits for
    # the part being run (~30 ms), not for the whole batch (~150 ms under load). Off:
    # at 5,000 stations on a quiet machine, two back-to-back pairs on main 4ae1262, parts
    # of 100 gave fewer msgs/s (1,848 / 1,398 against 2,350 / 1,987 without; per server
    # CPU-second 1,673 / 1,685 against 2,013 / 1,851) and no better remote start (p99
    # 1.76 / 3.29 s against 1.86 / 2.07 s).
    meter_write_part: int = 0
    # Young collections every 50,000 allocations instead of 700: in-flight objects of
    # busy stations die young instead of being promoted, so full collections (which
    # walk every connected station's objects: seconds at 10,000 stations) become rare.
    # Process-wide like switch_interval: set while serve() runs, restored after.
    gc_threshold: tuple[int, int, int] | None = (50_000, 20, 10)
    # A connector reporting Available/Preparing/Faulted/Unavailable while a session is
    # open on it, and staying so this long, has that session closed ("no StopTransaction
    # received"); after a BootNotification the first such status closes it at once.
    stale_session_grace: float = 120.0
    # SignCertificate (OCPP 1.6 security): CSRs are signed with this CA (PEM files) and
    # sent back with CertificateSigned; without one they wait for an external CA.
    ca_cert_file: str = ""
    ca_key_file: str = ""
    certificate_days: int = 365
    # or an external command (the key stays with it): the CSR on stdin, the chain on stdout
    ca_sign_command: str = ""
    # Security profile 3: the CA bundle client certificates are verified against (the
    # listener's TLS context holds it; here it tells that profile 3 can be offered).
    client_ca_file: str = ""
    # a "Certificate expiring" alarm this many days before a station's client
    # certificate expires, checked every interval (and at start)
    certificate_warning_days: float = 30.0
    certificate_check_interval: float = 3600.0
    meter_event_interval: float = 5.0  # at most one session.meter event per connector per ...
    # Unauthenticated clients write nothing themselves: refused unknown ids, replacements
    # and refused passwords are counted in memory and written coalesced every interval.
    refusal_interval: float = 10.0
    refused_ids_remembered: int = 1000  # distinct unknown ids counted one by one
    # Station Basic-auth failures within the window, per charge box id and per address;
    # past either limit every attempt is refused (429) before any hash is checked.
    auth_failures_per_station: int = 10
    auth_failures_per_address: int = 50
    auth_failure_window: float = 300.0
    # A station whose CALLs are refused (bad input) more than this many times in a row
    # gets each further answer 10 ms later, doubling up to the maximum (seconds).
    refusal_backoff_after: int = 3
    refusal_backoff_max: float = 1.0
    # File descriptors: connections still in their WebSocket handshake (the oldest is
    # closed when another arrives), and all gateway connections, kept below the soft
    # RLIMIT_NOFILE minus fd_reserve so the portal and the database always find one.
    max_pending_handshakes: int = 512
    fd_reserve: int = 256
    max_connections: int | None = None  # None: the soft limit minus fd_reserve
    # SO_REUSEPORT on the OCPP-J listener: several worker processes share its port
    reuse_port: bool = False
