"""``chargeportal-sim``: run a fleet, a load test or the conformance checks from a shell."""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from dataclasses import replace
from typing import Any

import trio

from simulator.conformance import ConformanceOptions, format_results, run_conformance
from simulator.fleet import PROTOCOLS, Fleet
from simulator.load import MODES, LoadOptions, run_load, run_load_processes
from simulator.scenario import Scenario, ScenarioError, load_scenario
from simulator.stats import format_table

__all__ = ["main"]

DEFAULT_URL = "ws://127.0.0.1:9000/Ocpp/websocket"
DEFAULT_URL_15 = "http://127.0.0.1:8000/Ocpp/CentralSystemService15"


def _outlets(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 4:
        raise argparse.ArgumentTypeError("1 to 4 outlets")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chargeportal-sim",
        description="Simulated charging stations: OCPP 1.6-J, or OCPP 1.5 over SOAP.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--protocol",
            choices=PROTOCOLS,
            default="ocpp1.6",
            help="ocpp1.6 (JSON over WebSocket) or ocpp1.5 (SOAP over HTTP; each station "
            "serves its ChargePointService on one local listener of the process)",
        )
        p.add_argument(
            "--url",
            default=DEFAULT_URL,
            help=f"central system endpoint (no id); ocpp1.5 default {DEFAULT_URL_15}",
        )
        p.add_argument("--password", help="Basic auth password (security profile 1/2)")
        p.add_argument("--ca-file", help="CA bundle for wss:// (security profile 2)")

    run = sub.add_parser("run", help="a fleet of stations charging per a scenario")
    common(run)
    run.add_argument("--stations", type=int, help="number of stations (default 1)")
    run.add_argument("--outlets", type=_outlets, help="outlets per station, 1..4 (default 2)")
    run.add_argument("--id-prefix", help="charge box ids: PREFIX0001, ... (default SIM)")
    run.add_argument("--first-index", type=int, help="number of the first station (default 1)")
    run.add_argument("--id-width", type=int, help="digits of the number, zero-padded (default 4)")
    run.add_argument("--ids", help="explicit charge box ids, comma separated (CP-1,CP-2)")
    run.add_argument("--scenario", help="TOML scenario file")
    run.add_argument("--duration", type=float, help="seconds to run (default: until Ctrl-C)")
    run.add_argument("--seed", type=int, help="random seed")

    load = sub.add_parser("load", help="many stations, latency percentiles per action")
    common(load)
    load.add_argument("--stations", type=int, default=100)
    load.add_argument("--outlets", type=_outlets, default=1)
    load.add_argument("--id-prefix", default="LOAD")
    load.add_argument("--first-index", type=int, default=1)
    load.add_argument("--id-width", type=int, default=4, help="digits of the station number")
    load.add_argument(
        "--mode",
        choices=MODES,
        default="idle",
        help="idle: boot+heartbeat; meter: one MeterValues outstanding per "
        "station; sessions: the scenario's sessions",
    )
    load.add_argument("--duration", type=float, default=30.0, help="seconds measured")
    load.add_argument("--heartbeat", type=float, help="heartbeat interval, overriding the CS")
    load.add_argument("--think", type=float, default=0.0, help="pause between meter calls")
    load.add_argument("--ramp", type=float, default=0.0, help="spread connects over seconds")
    load.add_argument(
        "--settle", type=float, default=0.0, help="wait after the boot storm before measuring"
    )
    load.add_argument(
        "--boot-timeout", type=float, default=120.0, help="longest wait for the boot storm"
    )
    load.add_argument("--timeout", type=float, default=30.0, help="CALL timeout")
    load.add_argument("--scenario", help="TOML scenario (mode sessions)")
    load.add_argument(
        "--plugged",
        action="store_true",
        help="a car waits on every outlet, so RemoteStartTransaction starts charging at once",
    )
    load.add_argument("--processes", type=int, default=1, help="split over N processes")
    load.add_argument("--json", action="store_true", help="print the JSON summary on stdout")
    load.add_argument("--json-out", help="write the JSON summary to this file")
    load.add_argument("--quiet", action="store_true", help="no table")

    conf = sub.add_parser("conformance", help="named checks of a central system")
    common(conf)
    conf.add_argument(
        "--id",
        default="CONFORMANCE1",
        help="a charge box id the central system knows (register it first)",
    )
    conf.add_argument("--tag", help="an idTag the central system accepts")
    conf.add_argument("--timeout", type=float, default=10.0)
    conf.add_argument("--client-cert", help="security profile 3: the station's certificate (PEM)")
    conf.add_argument("--client-key", help="its private key (PEM)")
    return parser


def _scenario(args: argparse.Namespace) -> Scenario:
    scenario = load_scenario(args.scenario) if args.scenario else Scenario()
    changes: dict[str, Any] = {}
    for name in ("stations", "outlets", "id_prefix", "first_index", "id_width", "password", "seed"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    if getattr(args, "duration", None) is not None:
        changes["duration"] = args.duration
    if getattr(args, "ids", None):
        ids = tuple(i.strip() for i in args.ids.split(",") if i.strip())
        changes["ids"] = ids
        changes["stations"] = len(ids)
    return replace(scenario, **changes)


async def _run(args: argparse.Namespace) -> int:
    scenario = _scenario(args)
    url = (
        args.url
        if args.url not in (DEFAULT_URL, DEFAULT_URL_15) or not scenario.url
        else scenario.url
    )
    fleet = Fleet(url, scenario, ca_file=args.ca_file, protocol=args.protocol)
    summary: dict[str, Any] = {}
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(fleet.run)
            nursery.start_soon(fleet.print_summary)
            await trio.sleep(scenario.duration if scenario.duration else math.inf)
            summary = fleet.summary()  # before the stations are stopped
            nursery.cancel_scope.cancel()
    except KeyboardInterrupt:
        summary = fleet.summary()
    sys.stderr.write("\n")
    print(json.dumps(summary))
    return 0


async def _load(args: argparse.Namespace, argv: list[str]) -> int:
    options = LoadOptions(
        url=args.url,
        stations=args.stations,
        outlets=args.outlets,
        id_prefix=args.id_prefix,
        first_index=args.first_index,
        id_width=args.id_width,
        password=args.password,
        ca_file=args.ca_file,
        mode=args.mode,
        duration=args.duration,
        heartbeat=args.heartbeat,
        think=args.think,
        ramp=args.ramp,
        settle=args.settle,
        boot_timeout=args.boot_timeout,
        call_timeout=args.timeout,
        plugged=args.plugged,
        scenario=load_scenario(args.scenario) if args.scenario else None,
        protocol=args.protocol,
    )
    if args.processes > 1:
        summary = await run_load_processes(options, args.processes, _child_argv(argv))
    else:
        summary = await run_load(options)
    text = json.dumps(summary)
    if args.json_out:
        await trio.Path(args.json_out).write_text(text)
    if args.json:
        print(text)
    if not args.quiet:
        print(format_table(summary), file=sys.stderr if args.json else sys.stdout)
    return 0


def _child_argv(argv: list[str]) -> list[str]:
    """The parent's ``load`` options minus those the parent sets per child."""
    drop = {"--stations", "--first-index", "--processes", "--json-out"}
    out: list[str] = []
    skip = False
    for arg in argv[argv.index("load") + 1 :]:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in drop:
            skip = "=" not in arg
            continue
        if name in ("--json", "--quiet"):
            continue
        out.append(arg)
    return out


async def _conformance(args: argparse.Namespace) -> int:
    options = ConformanceOptions(
        url=args.url,
        charge_box_id=args.id,
        password=args.password,
        ca_file=args.ca_file,
        id_tag=args.tag,
        timeout=args.timeout,
        protocol=args.protocol,
        client_cert=args.client_cert,
        client_key=args.client_key,
    )
    results = await run_conformance(options)
    print(format_results(results))
    return 1 if any(r.outcome == "FAIL" for r in results) else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``chargeportal-sim`` and ``python -m simulator``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.protocol == "ocpp1.5" and args.url == DEFAULT_URL:
        args.url = DEFAULT_URL_15
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    try:
        if args.command == "run":
            return trio.run(_run, args)
        if args.command == "load":
            return trio.run(_load, args, argv)
        return trio.run(_conformance, args)
    except ScenarioError as exc:
        print(f"chargeportal-sim: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
