"""``gitsnap prompt version ...`` and ``gitsnap prompt restore``: numbered checkpoints of a prompt's text."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..names import DEFAULT_PROMPT_SOURCE as DEFAULT_SOURCE
from ..names import PROMPT_SOURCES as SOURCES
from .aliases import alias
from .base import Group, State, dry_run_option, pass_state, short, table
from .base import source as source_of

if TYPE_CHECKING:
    from ..models import (
        PromptRestoreResult,
        PromptVersionDetail,
        PromptVersionDiff,
        PromptVersionList,
        PromptVersionResult,
    )

ORG_OPTION = click.option("--org", metavar="ORG", help="The prompt's org (needed only when several orgs have the prompt).")


@click.group(cls=Group)
def prompt() -> None:
    """Prompts: numbered, immutable versions of a prompt's text, restoring one, and aliases that name them."""


@prompt.group()
def version() -> None:
    """Create, list, show and diff a prompt's versions."""


@version.command("create")
@dry_run_option
@click.argument("prompt_id")
@ORG_OPTION
@click.option("--text", help="The version's text [default: the prompt's current body].")
@click.option("--file", "file", metavar="PATH", help="Read the version's text from PATH (- for stdin).")
@click.option("--label", help="One line; the version's own subject, fixed [default: Version N]. A movable name "
                               "for a version is an alias (gitsnap prompt alias).")
@click.option("--display-version", metavar="V", help="A display version such as v1.4 (one line).")
@click.option("--title", help="A title (one line).")
@click.option("--description", help="A description (may span lines; the commit's body).")
@click.option("--source", type=click.Choice(SOURCES), default=DEFAULT_SOURCE, show_default=True,
              help="What made this version.")
@pass_state
def create(state: State, prompt_id: str, org: str | None, text: str | None, file: str | None, label: str | None,
           display_version: str | None, title: str | None, description: str | None, source: str) -> None:
    """Snapshot prompt PROMPT_ID's text into a new numbered version.

    The text is the prompt's current body in its org's live state unless --text or --file gives
    it. When it is the same as the latest version's text, nothing is written: the latest version
    is reported with "skipped" (exit 0), whatever the label or other metadata say.

    \b
    Example:
      gitsnap prompt version create 65f9b1c2e8a1d4e001a0b1c4 --label "Pre-launch checkpoint" \\
          --display-version v1.4 --title Pre-launch --description "Snapshot before rolling out."
      gitsnap prompt version create 65f9b1c2e8a1d4e001a0b1c4 --file prompt.md --source ai_apply
    """
    result = state.store.create_prompt_version(prompt_id, org=org, text=text, file=source_of(file), label=label,
                                               display_version=display_version, title=title,
                                               description=description, source=source)
    state.emit(result, _render_create)


def _render_create(result: PromptVersionResult) -> str:
    snapshot = result.version_snapshot
    if result.skipped:
        head = f"No changes: prompt {result.prompt_id} is already at version {result.version} ({short(result.version_id)})"
    else:
        head = f"Saved version {result.version} of prompt {result.prompt_id} in org {result.org_id}: commit {short(result.version_id)}"
    return "\n".join([head, f"  {_describe(snapshot)}"])


def _describe(snapshot) -> str:
    details = [snapshot.label] + [value for value in (snapshot.display_version, snapshot.title) if value]
    return " · ".join(details) + f" ({snapshot.source}, {snapshot.created_at})"


@version.command("list")
@click.argument("prompt_id")
@ORG_OPTION
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="Only the N newest versions.")
@click.option("--preview/--no-preview", default=None,
              help="Read each version's text for its preview [default: with --json only; it costs on long histories].")
@pass_state
def list_(state: State, prompt_id: str, org: str | None, limit: int | None, preview: bool | None) -> None:
    """The versions of prompt PROMPT_ID, newest first; * marks those matching the current prompt.

    Previews (the first 120 characters of each text) are in the --json output and, with
    --preview, in the table; --no-preview leaves them out of --json (null), which lists a long
    history in about half the time.

    \b
    Example:
      gitsnap prompt version list 65f9b1c2e8a1d4e001a0b1c4
      gitsnap prompt version list 65f9b1c2e8a1d4e001a0b1c4 --limit 5 --preview
      gitsnap prompt version list 65f9b1c2e8a1d4e001a0b1c4 --json
    """
    with_preview = state.as_json if preview is None else preview
    state.emit(state.store.list_prompt_versions(prompt_id, org=org, limit=limit, preview=with_preview), _render_list)


def _render_list(result: PromptVersionList) -> str:
    if not result.versions:
        return f"No versions of prompt {result.prompt_id} yet (gitsnap prompt version create {result.prompt_id})"
    headers = ["", "VERSION", "LABEL", "DISPLAY", "SOURCE", "CREATED", "ALIASES"]
    rows = [["*" if v.matches_current_prompt else "", str(v.version), v.label, v.display_version or "", v.source,
             v.created_at, ", ".join(v.aliases or [])] for v in result.versions]
    if result.versions[0].preview is not None:
        headers.append("PREVIEW")
        for row, v in zip(rows, result.versions):
            row.append(_one_line(v.preview, 50))
    return table(rows, headers)


def _one_line(text: str, width: int) -> str:
    line = text.split("\n", 1)[0]
    return line[:width] + ("…" if len(line) > width or "\n" in text else "")


@version.command("show")
@click.argument("prompt_id")
@click.argument("number", metavar="N")
@ORG_OPTION
@pass_state
def show(state: State, prompt_id: str, number: str, org: str | None) -> None:
    """Show version N of prompt PROMPT_ID: its metadata and its full text.

    N is a version number, an alias (gitsnap prompt alias list) or latest.

    \b
    Example:
      gitsnap prompt version show 65f9b1c2e8a1d4e001a0b1c4 4
      gitsnap prompt version show 65f9b1c2e8a1d4e001a0b1c4 production
    """
    state.emit(state.store.show_prompt_version(prompt_id, number, org=org), _render_show)


def _render_show(result: PromptVersionDetail) -> str:
    lines = [f"Version {result.version} of prompt {result.prompt_id} in org {result.org_id}"
             + (" (matches the current prompt)" if result.matches_current_prompt else ""),
             f"  commit {result.id}", f"  {_describe(result)}"]
    lines += [f"  aliases: {', '.join(result.aliases)}"] if result.aliases else []
    if result.description:
        lines += [f"  {line}" for line in result.description.splitlines()]
    return "\n".join([*lines, "", result.text])


@version.command("diff")
@click.argument("prompt_id")
@click.argument("old", metavar="N")
@click.argument("new", metavar="M")
@ORG_OPTION
@pass_state
def diff(state: State, prompt_id: str, old: str, new: str, org: str | None) -> None:
    """The unified diff of prompt PROMPT_ID's text from version N to version M.

    N and M are version numbers, aliases (gitsnap prompt alias list) or latest.

    \b
    Example:
      gitsnap prompt version diff 65f9b1c2e8a1d4e001a0b1c4 3 5
      gitsnap prompt version diff 65f9b1c2e8a1d4e001a0b1c4 production latest
    """
    state.emit(state.store.diff_prompt_versions(prompt_id, old, new, org=org), _render_diff)


def _render_diff(result: PromptVersionDiff) -> str:
    if result.identical:
        return f"No differences: versions {result.from_version} and {result.to_version} have the same text"
    return result.diff.rstrip("\n")


@prompt.command("restore")
@dry_run_option
@click.argument("prompt_id")
@click.argument("number", metavar="N")
@ORG_OPTION
@pass_state
def restore(state: State, prompt_id: str, number: str, org: str | None) -> None:
    """Make version N's text the live body of prompt PROMPT_ID (its other fields are kept).

    N is a version number, an alias (gitsnap prompt alias list) or latest. One commit on the org's
    live branch; no commit when the body already is that text. Restoring does not create a version
    (create one afterwards if you want the restore numbered).

    \b
    Example:
      gitsnap prompt restore 65f9b1c2e8a1d4e001a0b1c4 4
      gitsnap prompt restore 65f9b1c2e8a1d4e001a0b1c4 production
    """
    state.emit(state.store.restore_prompt_version(prompt_id, number, org=org), _render_restore)


def _render_restore(result: PromptRestoreResult) -> str:
    if result.skipped:
        return f"No changes: prompt {result.prompt_id} in org {result.org_id} already has version {result.version}'s text"
    return (f"Restored prompt {result.prompt_id} in org {result.org_id} to version {result.version}: "
            f"commit {short(result.commit)}")


prompt.add_command(alias)
