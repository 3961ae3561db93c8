"""Playwright (sync API) driving Debian's Chromium from one dedicated thread.

Playwright's async API needs asyncio and its sync objects belong to the thread that
made them, while the portal, gateway and simulator run in the test's Trio loop. So
every browser step is a plain function submitted to a single-thread executor and
awaited with ``trio.to_thread.run_sync`` (the Trio loop keeps serving meanwhile).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import trio

T = TypeVar("T")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def ensure_chromium() -> str | None:
    """The Chromium path, installing Debian's package when missing; None if impossible."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, timeout=600, check=False)
        if done.returncode != 0:
            return None
    return CHROMIUM if Path(CHROMIUM).exists() else None


class BrowserThread:
    """One Chromium, owned by one thread; ``await run(fn, *args)`` runs ``fn`` there."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playwright")
        self._playwright: Any = None
        self.browser: Any = None

    def start(self) -> None:
        def launch() -> None:
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            self.browser = self._playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )

        self._executor.submit(launch).result(timeout=60)

    def close(self) -> None:
        def stop() -> None:
            if self.browser is not None:
                self.browser.close()
            if self._playwright is not None:
                self._playwright.stop()

        try:
            self._executor.submit(stop).result(timeout=30)
        finally:
            self._executor.shutdown(wait=True)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        future = self._executor.submit(fn, *args)
        return await trio.to_thread.run_sync(future.result, abandon_on_cancel=True)

    async def new_page(self, base_url: str) -> Any:
        def make() -> Any:
            context = self.browser.new_context(
                base_url=base_url, viewport={"width": 1280, "height": 800}
            )
            context.set_default_timeout(10_000)
            return context.new_page()

        return await self.run(make)


def log_in(page: Any, email: str, password: str) -> None:
    """Log in through the login form and wait for the logged-in page."""
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector('[data-testid="logout"]', state="attached")


def screenshot(page: Any, name: str) -> None:
    """Save a full-page screenshot under tests/artifacts/ (ignored by git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
