"""What every command shares: the invocation state, output, progress, and the command class."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from ..names import DEFAULT_REPO

if TYPE_CHECKING:
    from ..models import Result
    from ..store import Store


@dataclass
class State:
    """Global options of one invocation (given before or after the command)."""

    repo: str = DEFAULT_REPO
    as_json: bool = False
    dry_run: bool = False
    secrets: dict[str, Any] = field(default_factory=dict)  # allow_secrets, redact_secrets for the Store call
    argv: list[str] = field(default_factory=list)
    _store: Store | None = field(default=None, repr=False)

    @property
    def store(self) -> Store:
        if self._store is None:
            from ..store import Store

            self._store = Store(self.repo, dry_run=self.dry_run)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    def emit(self, result: Result, human: Callable[[Any], str]) -> None:
        """Print a result: its JSON shape under --json, otherwise its human rendering.

        Refs a listing could not read are named on stderr either way (they are in the JSON too).
        """
        changes = self.store.planned_changes() if self.dry_run else None
        if self.as_json:
            document = result.to_json()
            if changes is not None:
                document |= {"dryRun": True, "changes": [c.to_json() for c in changes]}
            # Indented for a person at a terminal; compact for a program, which also takes Python's C encoder
            # (indent= makes json use its pure-Python one: a third of a 10,000-version list's time).
            click.echo(json.dumps(document, indent=2 if sys.stdout.isatty() else None, ensure_ascii=False))
        else:
            text = human(result)
            if changes is not None:
                from .diffs import render_changes

                text = "\n".join(["Dry run: nothing was written. The command would report:", text, render_changes(changes)])
            if text:
                click.echo(text)
        for unreadable in getattr(result, "unreadable", []):
            click.echo(f"gitsnap: warning: {unreadable.ref} cannot be read and was left out: {unreadable.problem} "
                       "(gitsnap verify)", err=True)

    def progress(self) -> Callable[[str], None] | None:
        """A writer of progress text on stderr when it is a terminal and output is for a human; else None."""
        if self.as_json or not sys.stderr.isatty():
            return None

        def write(text: str) -> None:
            sys.stderr.write(text)
            sys.stderr.flush()

        return write


def source(value: str | None) -> Any:
    """A SOURCE argument as the library takes it: ``-`` is stdin (a binary stream), anything else a path."""
    return sys.stdin.buffer if value == "-" else value


def credentials() -> dict[str, str | None]:
    """http(s) credentials from the environment (GITSNAP_USERNAME, GITSNAP_PASSWORD)."""
    return {"username": os.environ.get("GITSNAP_USERNAME") or None,
            "password": os.environ.get("GITSNAP_PASSWORD") or None}


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(State).as_json = True


def _set_repo(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(State).repo = value


JSON_OPTION = click.Option(["--json"], is_flag=True, expose_value=False, callback=_set_json, is_eager=True,
                           help="Print one JSON document (errors too).")
REPO_OPTION = click.Option(["--repo"], metavar="PATH", expose_value=False, callback=_set_repo, is_eager=True,
                           help="The gitsnap repository [env GITSNAP_REPO; default ./gitsnap.git].")


def _with_global_options(params: list[click.Parameter]) -> None:
    """Let a command or group take --repo and --json after its name (the root group has its own)."""
    if not any(param.name in ("repo", "as_json") for param in params):
        params.extend([REPO_OPTION, JSON_OPTION])


class Command(click.Command):
    """A leaf command that also accepts the global --repo and --json after its name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _with_global_options(self.params)


class Group(click.Group):
    """A group whose subcommands and subgroups take the global options anywhere (``gitsnap org --json list``)."""

    command_class = Command
    group_class = type  # subgroups are of this same class

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _with_global_options(self.params)


pass_state = click.make_pass_decorator(State, ensure=True)


def _set_dry_run(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(State).dry_run = True


def secret_options(command: Callable) -> Callable:
    """--allow-secret FINGERPRINT (repeatable) and --redact, kept in the state for the command's Store call."""

    def keep(name: str) -> Callable:
        def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
            ctx.ensure_object(State).secrets[name] = value
        return callback

    allow = click.option("--allow-secret", "allow_secrets", multiple=True, metavar="FINGERPRINT", expose_value=False,
                         callback=keep("allow_secrets"),
                         help="Let a value through that looks like a secret but is not, by the fingerprint the "
                              "refusal named (repeatable).")
    redact = click.option("--redact", is_flag=True, expose_value=False, callback=keep("redact_secrets"),
                          help="Store ${secret:<fingerprint>} instead of each value that looks like a secret, "
                               "and report it.")
    return allow(redact(command))


dry_run_option = click.option(
    "--dry-run", is_flag=True, expose_value=False, callback=_set_dry_run, is_eager=True,
    help="Compute everything and show what would change (refs old -> new, entity diffs); write nothing.")


def short(sha: str) -> str:
    return sha[:12]


def table(rows: list[list[str]], headers: list[str]) -> str:
    """Rows as left-aligned columns under their headers."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [headers, *rows]]
    return "\n".join(lines)
