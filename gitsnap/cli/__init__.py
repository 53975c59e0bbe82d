"""The command line: click parses, a ``Store`` method does the work, the result is rendered.

This package is the one error boundary: every ``GitsnapError`` becomes one line on stderr (or the
``{"error", "details"}`` document under --json) and its exit code.
"""

from __future__ import annotations

import json
import os
import sys

import click

from .. import __version__
from ..errors import GitsnapError, InvalidInput
from .base import Group, State
from .orgs import init, org, scan, verify
from .prompts import prompt
from .remotes import clone, pull, push, remote
from .serve import serve, token
from .snapshots import snapshot
from .stubs import stub


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    state = ctx.ensure_object(State)
    if state.as_json or "--json" in state.argv:
        click.echo(json.dumps({"name": "gitsnap", "version": __version__}))
    else:
        click.echo(f"gitsnap, version {__version__}")
    ctx.exit()


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
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


cli.add_command(init)
cli.add_command(org)
cli.add_command(prompt)
cli.add_command(stub)
cli.add_command(snapshot)
cli.add_command(remote)
cli.add_command(push)
cli.add_command(pull)
cli.add_command(clone)
cli.add_command(verify)
cli.add_command(scan)
cli.add_command(serve)
cli.add_command(token)


def _report(message_lines: list[str], title: str, as_json: bool, result: object | None = None) -> None:
    if as_json:
        document = {"error": title, "details": "\n".join(message_lines)}
        if result is not None:
            document["result"] = result.to_json()
        click.echo(json.dumps(document, ensure_ascii=False))
    else:
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


def _fail(lines: list[str], title: str, as_json: bool, exit_code: int, result: object | None = None) -> int:
    _report(lines, title, as_json, result)
    return exit_code
