"""Progress for long ingests: a rich progress bar on a terminal (stderr), silence otherwise.

Readers report progress through this one object so that the CLI shows a bar, the API and
tests stay quiet, and no reader depends on a particular progress library.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress


class Progress:
    def __init__(self, console: Console | None = None, enabled: bool = True) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = enabled

    @classmethod
    def quiet(cls) -> Progress:
        return cls(enabled=False)

    @contextmanager
    def task(self, description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        """Yield ``tick(n)``; shows a bar while the block runs (when enabled)."""
        if not self.enabled:
            def ignore(n: int = 1) -> None:
                return None

            yield ignore
            return
        columns = (
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TaskProgressColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
        )
        with RichProgress(*columns, console=self.console, transient=False) as bar:
            task_id = bar.add_task(description, total=total)

            def tick(n: int = 1) -> None:
                bar.advance(task_id, n)

            yield tick
