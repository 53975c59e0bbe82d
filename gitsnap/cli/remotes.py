"""``gitsnap remote ...``, ``push``, ``pull`` and ``clone``: sharing a repository's gitsnap refs over git."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .base import Command, Group, State, credentials, dry_run_option, pass_state, short, table

if TYPE_CHECKING:
    from ..models import CloneResult, PullResult, PushResult, RefUpdate, RemoteList

EXIT_STATUS = """\b
    Exit status: 2 bad URL or rejected credentials (set GITSNAP_USERNAME and
    GITSNAP_PASSWORD for http(s)), 3 no such remote, repository not found or
    host unreachable, 4 refused: not a fast-forward, or diverged."""


def _exit_status(command):
    """Put the transfer commands' exit statuses into the docstring click reads for --help."""
    command.__doc__ = command.__doc__.replace("{exit_status}", EXIT_STATUS)
    return command


@click.group(cls=Group)
def remote() -> None:
    """The remotes of the repository (standard git config: remote.NAME.*)."""


@remote.command("add")
@click.argument("name")
@click.argument("url")
@pass_state
def add(state: State, name: str, url: str) -> None:
    """Add remote NAME at URL: a path, file://, git://, ssh:// (or host:path), http(s)://.

    Writes remote.NAME.url and one fetch and push refspec per gitsnap namespace
    (refs/heads/orgs, refs/tags/snapshots, refs/prompts, refs/stubs, refs/prompt-aliases), non-forced, so plain
    `git fetch NAME` in the repository brings the same refs and refuses non-fast-forwards too.
    Credentials in the URL (user:password@) are not stored: give them at run time.

    \b
    Example:
      gitsnap remote add origin git@git.example.com:team/config.git
      gitsnap remote add backup /srv/backup/gitsnap.git
    """
    state.emit(state.store.add_remote(name, url), lambda r: f"{r.message}: {r.url}")


@remote.command("list")
@pass_state
def list_(state: State) -> None:
    """The remotes with their URLs.

    \b
    Example:
      gitsnap remote list
    """
    state.emit(state.store.list_remotes(), _render_list)


def _render_list(result: RemoteList) -> str:
    if not result.remotes:
        return "No remotes yet (gitsnap remote add origin URL)"
    return table([[r.name, r.url] for r in result.remotes], ["NAME", "URL"])


@remote.command("remove")
@click.argument("name")
@pass_state
def remove(state: State, name: str) -> None:
    """Remove remote NAME from the config (exit 3 when there is none).

    \b
    Example:
      gitsnap remote remove backup
    """
    state.emit(state.store.remove_remote(name), lambda r: f"{r.message} ({r.url})")


def _ref_lines(refs: list[RefUpdate], shown: tuple[str, ...]) -> list[str]:
    rows = [[u.status, u.ref, _change(u)] for u in refs if u.status in shown]
    return ["  " + line for line in table(rows, ["STATUS", "REF", "COMMIT"]).splitlines()] if rows else []


def _change(update: RefUpdate) -> str:
    if update.status == "deleted":
        return f"{short(update.old)} (deleted)"
    if update.old and update.new and update.old != update.new:
        return f"{short(update.old)}..{short(update.new)}"
    return short(update.new or update.old or "")


@click.command(cls=Command)
@click.argument("remote_or_url", required=False, metavar="[REMOTE_OR_URL]")
@click.option("--org", metavar="ORG", help="Push only this org's refs (live branch, snapshots, prompts, stubs).")
@click.option("--prune", is_flag=True, help="Delete remote refs (in the pushed namespaces) that no longer exist here.")
@pass_state
@_exit_status
def push(state: State, remote_or_url: str | None, org: str | None, prune: bool) -> None:
    """Push gitsnap's refs to REMOTE_OR_URL (default: origin).

    Every ref must be a fast-forward of the remote's: when one is not (the remote has commits
    this repository lacks), nothing is pushed and each such ref is named; run gitsnap pull
    first. The push is atomic when the server supports it; otherwise the report says exactly
    which refs moved. Snapshot tags never move. Without --prune, remote refs missing here stay.

    {exit_status}

    \b
    Example:
      gitsnap push
      gitsnap push origin --org 64ee9a8b1e7f2a0011223344
      gitsnap push https://git.example.com/team/config.git --prune
    """
    result = state.store.push(remote_or_url, org=org, prune=prune, progress=state.progress(), **credentials())
    state.emit(result, _render_push)


def _render_push(result: PushResult) -> str:
    lines = [result.message, *_ref_lines(result.refs, ("created", "updated", "deleted", "rejected"))]
    if result.remote_only:
        lines.append(f"  {len(result.remote_only)} remote refs are not here and were left alone "
                     f"(gitsnap pull {result.remote} brings them; push --prune deletes them)")
    return "\n".join(lines)


@click.command(cls=Command)
@dry_run_option
@click.argument("remote_or_url", required=False, metavar="[REMOTE_OR_URL]")
@click.option("--org", metavar="ORG", help="Pull only this org's refs.")
@pass_state
@_exit_status
def pull(state: State, remote_or_url: str | None, org: str | None) -> None:
    """Fetch gitsnap's refs from REMOTE_OR_URL (default: origin) and fast-forward them here.

    New refs are created; refs the remote has moved ahead are fast-forwarded; refs that are
    ahead here are left for gitsnap push; refs that diverged are left as they are, named,
    and the command exits 4 after moving everything else. Local refs are never deleted.

    {exit_status}

    \b
    Example:
      gitsnap pull
      gitsnap pull git://git.example.com/config.git --org 64ee9a8b1e7f2a0011223344
    """
    result = state.store.pull(remote_or_url, org=org, progress=state.progress(), **credentials())
    state.emit(result, _render_pull)


def _render_pull(result: PullResult) -> str:
    return "\n".join([result.message, *_ref_lines(result.refs, ("created", "updated", "ahead", "diverged"))])


@click.command(cls=Command)
@click.argument("url")
@click.argument("path")
@pass_state
@_exit_status
def clone(state: State, url: str, path: str) -> None:
    """A new gitsnap repository at PATH with every gitsnap ref of URL, and URL as remote origin.

    PATH must not exist or be empty. Credentials in URL are used but not stored. If the clone
    fails, nothing it created is left behind.

    {exit_status}

    \b
    Example:
      gitsnap clone git@git.example.com:team/config.git ./copy.git
      gitsnap --repo ./copy.git org list
    """
    from ..store import Store

    result = Store.clone(url, path, progress=state.progress(), **credentials())
    state.emit(result, _render_clone)


def _render_clone(result: CloneResult) -> str:
    lines = [result.message]
    if result.credentials_stripped:
        lines.append("  the credentials in the URL were not stored (remote origin: " + result.url + ")")
    return "\n".join(lines)
