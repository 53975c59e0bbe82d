"""The command line: click parses, a ``Store`` method does the work, the result is rendered.

This package is the one error boundary: every ``GitsnapError`` becomes one line on stderr (or the
``{"error", "details"}`` document under --json) and its exit code.
"""

from __future__ import annotations

import json
import sys

import click

from .. import __version__
from ..errors import GitsnapError
from .base import Group, State
from .orgs import init, org, verify
from .prompts import prompt
from .remotes import clone, pull, push, remote
from .snapshots import snapshot
from .stubs import stub


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--repo", envvar="GITSNAP_REPO", metavar="PATH", help="The gitsnap repository [env GITSNAP_REPO; default ./gitsnap.git].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (errors too).")
@click.version_option(__version__, prog_name="gitsnap")
@click.pass_context
def cli(ctx: click.Context, repo: str | None, as_json: bool) -> None:
    """Version a platform's org configuration, prompt versions and stub snapshots in git.

    Everything lives in a bare git repository as canonical YAML: plain git (log, show, diff,
    clone, push) reads and ships it.

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


def _report(message_lines: list[str], title: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"error": title, "details": "\n".join(message_lines)}, ensure_ascii=False))
    else:
        for line in message_lines:
            click.echo(f"gitsnap: {line}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI: the one place errors turn into messages and exit codes."""
    args = sys.argv[1:] if argv is None else argv
    state = State()
    try:
        exit_code = cli.main(args=args, prog_name="gitsnap", standalone_mode=False, obj=state)
    except GitsnapError as error:
        _report(error.lines(), error.title, state.as_json)
        sys.exit(error.exit_code)
    except click.ClickException as error:
        _report([error.format_message()], "Invalid usage", state.as_json or "--json" in args)
        if not (state.as_json or "--json" in args) and isinstance(error, click.UsageError) and error.ctx:
            click.echo(f"Try '{error.ctx.command_path} --help' for help.", err=True)
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        state.close()
    if exit_code:  # a command's ctx.exit(N): click returns N when it does not exit itself
        sys.exit(exit_code)
