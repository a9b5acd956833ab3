"""Rich progress bars for the pipeline's stages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from wholeplace.ingest.pipeline import Reporter


class RichReporter(Reporter):
    """One bar per file, advancing through the pipeline's stages."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.fields[file]}"),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> RichReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def start_file(self, name: str, stages: int) -> None:
        self._task = self.progress.add_task("starting", total=stages, file=name)

    def stage(self, name: str) -> None:
        if self._task is not None:
            self.progress.update(self._task, description=name, advance=1)

    def finish_file(self) -> None:
        if self._task is not None:
            total = next(t.total for t in self.progress.tasks if t.id == self._task)
            self.progress.update(self._task, description="done", completed=total)


@contextmanager
def step(console: Console, description: str) -> Iterator[None]:
    """A pulsing bar for one step whose length cannot be known in advance."""
    progress = Progress(SpinnerColumn(), TextColumn(description), BarColumn(), TimeElapsedColumn(), console=console)
    with progress:
        task = progress.add_task(description, total=None)
        yield
        progress.update(task, total=1, completed=1)
