"""Progress of long command-line work: a bar with counts and rate on a terminal, nothing anywhere else.

The bar is drawn with rich (which typer already brings) on **stderr**, and only when stderr is a terminal:
piped or redirected, a command prints exactly what it printed before, and with `--json` it never shows one.
stdout is never written to, and the bar is not drawn while a command streams its own output to that same
terminal (`desk export` without `> file`). rich is imported only when a bar is drawn.

Services know nothing of it: they take a `progress` callback (`done`, and `total` when known) or hand out
an iterable; a command passes a `Meter` from `meter(...)`, or wraps the iterable with `track(...)`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


class Meter:
    """Where the work has got to. `meter(done, total)` sets it (counts so far, and the total once known);
    `meter.advance(n)` adds to it. Hidden (no terminal, `--json`), it only counts."""

    def __init__(self, bar: Any = None, task: Any = None) -> None:
        self._bar, self._task = bar, task
        self.done = 0

    def __call__(self, done: int, total: int | None = None) -> None:
        self.done = done
        if self._bar is not None:
            self._bar.update(self._task, completed=done, **({} if total is None else {"total": total}))

    def advance(self, count: int = 1) -> None:
        self(self.done + count)


def shown(*, enabled: bool = True, streams_to_stdout: bool = False) -> bool:
    """Whether a bar is drawn: asked for (not `--json`), stderr a terminal, and stdout not that terminal
    too while the command writes its own output there as it goes."""
    if not enabled or not sys.stderr.isatty():
        return False
    return not (streams_to_stdout and sys.stdout.isatty())


@contextmanager
def meter(what: str, *, unit: str, total: int | None = None, enabled: bool = True,
          streams_to_stdout: bool = False) -> Iterator[Meter]:
    """A bar for one piece of work, `what` counted in `unit`s, e.g. `meter("recomputing deadlines",
    unit="clocks", total=n)`; it stays on the terminal, complete, once the work is done."""
    if not shown(enabled=enabled, streams_to_stdout=streams_to_stdout):
        yield Meter()
        return
    bar = _bar(unit)
    with bar:
        yield Meter(bar, bar.add_task(what, total=total))


def track(items: Iterable[T], what: str, *, unit: str, total: int | None = None, enabled: bool = True,
          streams_to_stdout: bool = False, counts: Callable[[T], bool] = lambda _: True) -> Iterator[T]:
    """`items`, one by one, advancing a bar for each item that `counts` (e.g. only the ticket records of
    an export that also yields their events)."""
    with meter(what, unit=unit, total=total, enabled=enabled, streams_to_stdout=streams_to_stdout) as done:
        for item in items:
            yield item
            if counts(item):
                done.advance()


def _bar(unit: str):
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        """Units a second: rich's estimate over the last few seconds, else the average so far."""

        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed or (task.completed / task.elapsed if task.elapsed else None)
            return Text(f"{speed:,.0f} {unit}/s" if speed else f"– {unit}/s", style="progress.data.speed")

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
                    Rate(), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True), redirect_stdout=False, redirect_stderr=False)
