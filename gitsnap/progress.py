"""Progress of long work: text for a terminal, written by whoever shows it (the CLI, on stderr)."""

from __future__ import annotations

from collections.abc import Callable

# Receives progress text: whole lines end in "\n"; a line that starts with "\r" replaces the last one.
Progress = Callable[[str], None]


def count(progress: Progress | None, stage: str, done: int, total: int) -> None:
    """``\\rReading files: 500/10000``, ending the line once ``done`` reaches ``total``."""
    if progress is not None:
        progress(f"\r{stage}: {done}/{total}" + ("\n" if done >= total else ""))
