"""``serve --workers N``: N processes of one role sharing the listening ports.

Each worker binds the gateway's (and the portal's) port with SO_REUSEPORT and the kernel
spreads new connections over them, so one machine uses all its cores. Every worker is a
node of the cluster (PostgreSQL): its own presence rows, its own LISTEN connection. A
worker that dies is started again after a second; SIGINT/SIGTERM stop them all.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from types import FrameType

from chargeportal.serve import ServeOptions

__all__ = ["run_workers", "worker_options"]

log = logging.getLogger("chargeportal.workers")


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def worker_options(options: ServeOptions, index: int) -> ServeOptions:
    """One worker's options: the shared ports, one FTP server (the first worker's), a
    node name of its own (``--node-id gw1`` → ``gw1-w0``, ``gw1-w1``…)."""
    return dataclasses.replace(
        options,
        workers=1,
        reuse_port=True,
        ftp_port=options.ftp_port if index == 0 else -1,
        node_id=f"{options.node_id}-w{index}" if options.node_id else "",
    )


def _worker(options: ServeOptions) -> None:
    from chargeportal.serve import run_serve

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us with SIGTERM
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    run_serve(options)


def run_workers(options: ServeOptions) -> int:
    """Run ``options.workers`` worker processes until stopped; the exit status."""
    if options.gateway_port == 0:
        options = dataclasses.replace(options, gateway_port=_free_port(options.host))
    if options.portal_port == 0:
        options = dataclasses.replace(options, portal_port=_free_port(options.host))
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    def start(index: int) -> BaseProcess:
        process = context.Process(
            target=_worker, args=(worker_options(options, index),), name=f"worker-{index}"
        )
        process.start()
        return process

    workers = {index: start(index) for index in range(options.workers)}
    status = 0
    try:
        while not stopping:
            time.sleep(0.5)
            for index, process in list(workers.items()):
                if process.is_alive() or stopping:
                    continue
                if process.exitcode == 2:  # bad options or files: starting again won't help
                    stopping, status = True, 2
                    break
                print(
                    f"chargeportal: worker {index} ended ({process.exitcode}); starting it again",
                    flush=True,
                )
                time.sleep(1.0)
                workers[index] = start(index)
    finally:
        for process in workers.values():
            if process.is_alive():
                process.terminate()
        for process in workers.values():
            process.join(10)
            if process.is_alive():
                process.kill()
    return status
