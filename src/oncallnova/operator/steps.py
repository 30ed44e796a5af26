"""Numbered steps that each pass or fail, printed as they finish (the demos)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.markup import escape

from oncallnova.operator.client import OperatorError
from oncallnova.operator.ui import out


class StepFailed(Exception):
    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


@dataclass
class StepResult:
    number: int
    title: str
    outcome: str  # passed, failed, skipped
    seconds: float
    message: str = ""
    details: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.number,
            "title": self.title,
            "outcome": self.outcome,
            "seconds": round(self.seconds, 2),
            "message": self.message,
            "details": self.details,
        }


def check(condition: bool, message: str, details: list[str] | None = None) -> None:
    if not condition:
        raise StepFailed(message, details)


class Steps:
    """Runs steps in order; a step whose prerequisite failed is skipped, not run."""

    def __init__(self, total: int, *, quiet: bool = False) -> None:
        self.total = total
        self.quiet = quiet
        self.results: list[StepResult] = []

    @property
    def failed(self) -> bool:
        return any(r.outcome != "passed" for r in self.results)

    def passed(self, number: int) -> bool:
        return any(r.number == number and r.outcome == "passed" for r in self.results)

    def run(
        self,
        number: int,
        title: str,
        action: Callable[[], list[str]],
        needs: tuple[int, ...] = (),
    ) -> bool:
        started = time.monotonic()
        missing = [n for n in needs if not self.passed(n)]
        if missing:
            result = StepResult(
                number, title, "skipped", 0.0, f"needs step {', '.join(map(str, missing))}"
            )
        else:
            if not self.quiet:
                out.print(f"[bold][{number}/{self.total}][/bold] {escape(title)} ...")
            try:
                details = action()
                result = StepResult(
                    number, title, "passed", time.monotonic() - started, "", details
                )
            except StepFailed as exc:
                result = StepResult(
                    number, title, "failed", time.monotonic() - started, exc.message, exc.details
                )
            except OperatorError as exc:
                result = StepResult(
                    number, title, "failed", time.monotonic() - started, exc.message
                )
        self.results.append(result)
        if not self.quiet:
            self._print(result)
        return result.outcome == "passed"

    def _print(self, r: StepResult) -> None:
        for detail in r.details:
            out.print(f"      {escape(detail)}")
        mark = {
            "passed": "[green]PASS[/green]",
            "failed": "[red]FAIL[/red]",
            "skipped": "[yellow]SKIP[/yellow]",
        }[r.outcome]
        why = f": {escape(r.message)}" if r.message else ""
        out.print(f"{mark} [bold]{r.number}. {escape(r.title)}[/bold] ({r.seconds:.1f}s){why}")

    def summary(self) -> str:
        passed = sum(r.outcome == "passed" for r in self.results)
        return f"{passed}/{self.total} steps passed"


def wait_for(
    observe: Callable[[], Any], ready: Callable[[Any], bool], timeout: float, what: str
) -> Any:
    """Poll `observe` until `ready` holds on what it returns, or fail the step once
    `timeout` seconds have passed (the last observation is kept for the message)."""
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        seen = observe()
        if ready(seen):
            return seen
        if time.monotonic() >= deadline:
            raise StepFailed(f"{what}: not seen within {timeout:.0f}s")
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)
