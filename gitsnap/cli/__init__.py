"""The command line: click parses, a ``Store`` method does the work, the result is rendered.

This package is the one error boundary: every ``GitsnapError`` becomes one line on stderr (or the
``{"error", "details"}`` document under --json) and its exit code.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
from typing import Any

import click

from .. import __version__
from ..errors import GitsnapError, InvalidInput
from .base import Group, State

# Each command's module, imported when the command runs (or help or completion lists it): a command's
# start-up pays for its own module only.
COMMAND_MODULES = {
    "init": "orgs", "org": "orgs", "verify": "orgs", "scan": "orgs", "prompt": "prompts", "stub": "stubs",
    "snapshot": "snapshots", "remote": "remotes", "push": "remotes", "pull": "remotes", "clone": "remotes",
    "serve": "serve", "token": "serve",
}


class RootGroup(Group):
    """The ``gitsnap`` group: its commands are loaded from COMMAND_MODULES by name."""

    def get_command(self, ctx: click.Context | None, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            module = importlib.import_module(f".{COMMAND_MODULES[cmd_name]}", __name__)
            self.add_command(getattr(module, cmd_name))
        return self.commands.get(cmd_name)

    def list_commands(self, ctx: click.Context | None) -> list[str]:
        return sorted(COMMAND_MODULES)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and args[0] not in COMMAND_MODULES:  # no such command: all of them, for the error's suggestions
            for name in COMMAND_MODULES:
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    state = ctx.ensure_object(State)
    if state.as_json or "--json" in state.argv:
        click.echo(json.dumps({"name": "gitsnap", "version": __version__}))
    else:
        click.echo(f"gitsnap, version {__version__}")
    ctx.exit()


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--repo", envvar="GITSNAP_REPO", metavar="PATH", help="The gitsnap repository [env GITSNAP_REPO; default ./gitsnap.git].")
@click.option("--json", "as_json", is_flag=True, is_eager=True, help="Print one JSON document (errors too).")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_version,
              help="Show the version (as JSON with --json) and exit.")
@click.pass_context
def cli(ctx: click.Context, repo: str | None, as_json: bool) -> None:
    """Version a platform's org configuration, prompt versions and stub snapshots in git.

    Everything lives in a bare git repository as canonical YAML: plain git (log, show, diff,
    clone, push) reads and ships it. --repo and --json may be given before or after any command.

    \b
    Example:
      gitsnap init
      gitsnap org import fixtures/acme --user 64ee9a8b1e7f2a0011223399
      gitsnap org list
    """
    state = ctx.ensure_object(State)
    if repo is not None:
        state.repo = repo
    state.as_json = state.as_json or as_json



def _report(message_lines: list[str], title: str, as_json: bool, result: object | None = None) -> None:
    """The error document on stdout under --json, else (or when stdout cannot take it) lines on stderr."""
    if as_json:
        document = {"error": title, "details": "\n".join(message_lines)}
        if result is not None:
            document["result"] = result.to_json()
        try:
            click.echo(json.dumps(document, ensure_ascii=False))
            return
        except OSError:  # stdout is what failed (a full disk)
            pass
    with contextlib.suppress(OSError):  # when stderr cannot be written either, nothing more can be said
        for line in message_lines:
            click.echo(f"gitsnap: {line}", err=True)


def _not_text(args: list[str]) -> str | None:
    """The first argument or GITSNAP_ variable that is not UTF-8 text, described, or None."""
    named = [(f"argument {index}", arg) for index, arg in enumerate(args, 1)]
    named += [(name, value) for name, value in os.environ.items() if name.startswith(("GITSNAP_", "GIT_"))]
    for what, value in named:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            shown = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            return f"{what} is not UTF-8 text: {shown}"
    return None


def main(argv: list[str] | None = None) -> None:
    """Run the CLI: the one place errors turn into messages and exit codes."""
    args = sys.argv[1:] if argv is None else argv
    state = State(argv=args)
    json_asked = "--json" in args
    try:
        if problem := _not_text(args):
            raise InvalidInput(problem)
        exit_code = cli.main(args=args, prog_name="gitsnap", standalone_mode=False, obj=state)
    except GitsnapError as error:
        exit_code = _fail(error.lines(), error.title, state.as_json or json_asked, error.exit_code, error.result)
    except click.ClickException as error:
        exit_code = _fail([error.format_message()], "Invalid usage", state.as_json or json_asked, error.exit_code)
        if not (state.as_json or json_asked) and isinstance(error, click.UsageError) and error.ctx:
            click.echo(f"Try '{error.ctx.command_path} --help' for help.", err=True)
    except click.exceptions.Abort as error:  # click's form of Ctrl-C (and of an aborted prompt)
        if isinstance(error.__cause__, KeyboardInterrupt):
            exit_code = 130
        else:
            click.echo("Aborted.", err=True)
            exit_code = 1
    except BrokenPipeError:  # the reader went away (| head) outside click's own handling: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        exit_code = 0
    except KeyboardInterrupt:
        exit_code = 130
    except OSError as error:  # a file or directory the command itself could not use
        where = f"{error.filename}: " if error.filename else ""
        exit_code = _fail([f"{where}{error.strerror or error}"], "Error", state.as_json or json_asked, 1)
    except Exception as error:  # a bug: one line, and the traceback only when asked for
        if os.environ.get("GITSNAP_DEBUG"):
            raise
        exit_code = _fail([f"internal error: {type(error).__name__}: {error} (run with GITSNAP_DEBUG=1 for the "
                           "traceback, and please report it)"], "Internal error", state.as_json or json_asked, 1)
    finally:
        state.close()
    if exit_code:  # a command's ctx.exit(N): click returns N when it does not exit itself
        sys.exit(exit_code)


def run() -> None:
    """The ``gitsnap`` program: ``main``, then an exit without the interpreter's teardown of its modules.

    That teardown costs every command about 10 ms (a fifth of ``gitsnap --version``) and nothing
    needs it: each file a command writes is complete and renamed into place before ``main`` returns,
    and the output is flushed here.
    """
    try:
        main()
        exit_code = 0
    except SystemExit as exit_:
        exit_code = exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 1
        if not isinstance(exit_.code, int | None):
            print(exit_.code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # the reader went away (| head): nothing more to say to it
            pass
        except OSError as error:  # the output was not all written (a full disk): the command failed
            exit_code = exit_code or 1
            with contextlib.suppress(OSError):
                os.write(2, f"gitsnap: cannot write the output: {error.strerror or error}\n".encode())
    os._exit(exit_code)


def _fail(lines: list[str], title: str, as_json: bool, exit_code: int, result: object | None = None) -> int:
    _report(lines, title, as_json, result)
    return exit_code
