"""What a conformance run is given and what it finds, and the table printed for people."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CheckFailedError", "CheckResult", "ConformanceOptions", "format_results"]


@dataclass(frozen=True, slots=True)
class ConformanceOptions:
    url: str
    charge_box_id: str
    password: str | None = None
    ca_file: str | None = None
    id_tag: str | None = None  # a tag the central system accepts (optional)
    timeout: float = 10.0
    outlets: int = 2
    protocol: str = "ocpp1.6"  # or "ocpp1.5" (SOAP)
    client_cert: str | None = None  # security profile 3: the station's certificate (PEM)
    client_key: str | None = None


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    outcome: str  # PASS | FAIL | SKIP
    detail: str = ""


class CheckFailedError(Exception):
    """A check's expectation did not hold."""


def format_results(results: list[CheckResult]) -> str:
    width = max(len(r.name) for r in results) if results else 10
    lines = [f"{'check':<{width}}  result  detail", "-" * (width + 40)]
    for r in results:
        lines.append(f"{r.name:<{width}}  {r.outcome:<6}  {r.detail}")
    failed = sum(r.outcome == "FAIL" for r in results)
    passed = sum(r.outcome == "PASS" for r in results)
    lines.append("-" * (width + 40))
    lines.append(f"{passed} passed, {failed} failed, {len(results) - passed - failed} skipped")
    return "\n".join(lines)
