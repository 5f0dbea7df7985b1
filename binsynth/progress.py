"""One progress-bar style for long work: description, bar, done/total, rate, elapsed, ETA."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def rate_bar(description: str, total: int, unit: str, extra: Callable[[], str] | None = None) -> Iterator[Callable]:
    """Yields ``advance(n=1)``; the bar shows ``<rate> <unit>/s`` and, if given, ``extra()``
    (e.g. the current loss) after it."""
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task(description, total=total, rate="")

        def advance(n: int = 1) -> None:
            bar.advance(task, n)
            speed = bar.tasks[task].speed
            text = f"{speed:.1f} {unit}/s" if speed else ""
            if extra is not None:
                text = f"{text} {extra()}".strip()
            bar.update(task, rate=text)

        yield advance
