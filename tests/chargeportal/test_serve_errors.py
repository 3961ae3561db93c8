"""``chargeportal serve`` as a person runs it: a database it cannot write ends in one
readable line and exit status 1, not a traceback (issue 11 point 15)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _chargeportal(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chargeportal", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "CHARGEPORTAL_TIME_ZONE": "UTC"},
    )


def _make_read_only(path: Path) -> None:
    """Mark the SQLite file read-only in its own header (the file format's write version
    above 2: every SQLite opens it read-only), which holds for root too, unlike chmod."""
    import sqlite3

    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=delete")
    connection.close()
    with path.open("r+b") as file:
        file.seek(18)
        file.write(bytes([3]))


def test_serve_on_a_read_only_database_says_so_in_one_line(tmp_path: Path) -> None:
    database = tmp_path / "portal.sqlite3"
    url = f"sqlite:///{database}"
    made = _chargeportal("init-db", "--db", url, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    _make_read_only(database)
    served = _chargeportal(
        "serve",
        "--db",
        url,
        "--gateway-port",
        "0",
        "--portal-port",
        "0",
        "--ftp-port",
        "-1",
        cwd=tmp_path,
    )
    assert served.returncode == 1
    assert "Traceback" not in served.stderr
    assert "ExceptionGroup" not in served.stderr
    lines = served.stderr.strip().splitlines()
    expected = (
        f"chargeportal: error: the database {url} cannot be used: "
        "attempt to write a readonly database"
    )
    assert lines[-1] == expected  # after the start-up's INFO lines, if any
    assert [line for line in lines if "error" in line.lower()] == [expected]


def test_a_database_password_never_reaches_the_message() -> None:
    from chargeportal.serve import _without_password

    assert (
        _without_password("postgresql://portal:s3cret@db.example/cp")
        == "postgresql://portal:***@db.example/cp"
    )
    assert _without_password("sqlite:///var/cp.sqlite3") == "sqlite:///var/cp.sqlite3"


def test_the_ftp_upload_cap_is_an_option_of_serve() -> None:
    from chargeportal.cli import build_parser, serve_options

    args = build_parser().parse_args(["serve", "--db", "sqlite:///x", "--ftp-max-upload-mb", "3"])
    assert serve_options(args).ftp_max_upload_mb == 3
    default = build_parser().parse_args(["serve", "--db", "sqlite:///x"])
    assert serve_options(default).ftp_max_upload_mb == 100


async def test_the_portal_gives_its_ftp_server_the_configured_cap(
    store: object, tmp_path: Path
) -> None:
    from portal import create_app
    from portal.configuration.deps import EXTENSION

    app = create_app(
        store,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        config={
            "SECRET_KEY": "x",
            "TESTING": True,
            "FILES_ROOT": str(tmp_path),
            "FTP_PORT": 0,
            "FTP_MAX_UPLOAD_BYTES": 3 * 1024 * 1024,
        },
    )
    async with app.test_app():
        ftp = app.extensions[EXTENSION].ftp
        assert ftp is not None
        assert ftp.max_upload_bytes == 3 * 1024 * 1024


def test_the_message_log_size_is_an_option_and_zero_turns_it_off() -> None:
    import pytest

    from chargeportal.cli import build_parser, serve_options

    parse = build_parser().parse_args
    assert serve_options(parse(["serve", "--db", "sqlite:///x"])).frame_log == 1000
    assert serve_options(parse(["serve", "--db", "sqlite:///x", "--frame-log", "0"])).frame_log == 0
    with pytest.raises(SystemExit):
        serve_options(parse(["serve", "--db", "sqlite:///x", "--frame-log", "-1"]))
