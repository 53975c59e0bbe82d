"""``gitsnap snapshot ...``: org snapshots (annotated tags on an org's live commit)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .base import Group, State, dry_run_option, pass_state, secret_options, short, table
from .base import source as source_of
from .diffs import clip, render_diff

if TYPE_CHECKING:
    from ..models import (
        ApplyResult,
        Counts,
        OrgSnapshot,
        SnapshotDiff,
        SnapshotList,
        SnapshotResult,
    )



def _counts(counts: Counts) -> str:
    return (f"{counts.pipelines} pipelines, {counts.automations} automations, {counts.prompts} prompts, "
            f"{counts.templates} templates")


@click.group(cls=Group)
def snapshot() -> None:
    """Org snapshots: create, list, show, diff, delete, and apply one to onboard an org."""


@snapshot.command("create")
@dry_run_option
@secret_options
@click.option("--org", required=True, metavar="ORG", help="The org whose live state is captured.")
@click.option("--user", "user_id", required=True, metavar="UID", help="Who asked for it: one of the org's users.")
@click.option("--name", required=True, help="1 to 120 characters, one line.")
@click.option("--description", default="", help="At most 500 characters; may span lines.")
@click.option("--from", "source", metavar="SOURCE",
              help="Import SOURCE (a directory, a .json/.yaml document, or - for stdin) first, then snapshot it.")
@pass_state
def create(state: State, org: str, user_id: str, name: str, description: str, source: str | None) -> None:
    """Snapshot an org's live state as an annotated tag refs/tags/snapshots/ORG/ID.

    The tag message is the name, the description and trailers (source org and user, entity counts,
    time); the tagger is you (git's identity rules). With --from, SOURCE is imported first (no
    commit when it is unchanged) and nothing at all is written when any input is wrong.

    \b
    Example:
      gitsnap snapshot create --org 64ee9a8b1e7f2a0011223344 --user 64ee9a8b1e7f2a0011223399 \\
          --name "Production baseline 2026-05" --description "Reference Acme Corp configuration."
      gitsnap snapshot create --org 64ee9a8b1e7f2a0011223344 --user 64ee9a8b1e7f2a0011223399 \\
          --name Nightly --from export.json
    """
    result = state.store.create_snapshot(org, user_id, name, description, source_of(source), progress=state.progress(),
                                         **state.secrets)
    state.emit(result, _render_create)


def _render_create(result: SnapshotResult) -> str:
    snapshot, lines = result.snapshot, []
    if result.imported is not None:
        imported = result.imported
        lines.append(f"No changes to import: {imported.org_id} is at {short(imported.commit)}" if imported.skipped
                     else f"Imported {imported.org_name} ({imported.org_id}): commit {short(imported.commit)}")
    lines += [f"Created snapshot {snapshot.id} {snapshot.name!r} of {snapshot.source_org_name} "
              f"({snapshot.source_org_id}) at commit {short(snapshot.commit)}",
              f"  tag snapshots/{snapshot.source_org_id}/{snapshot.id}", f"  {_counts(snapshot.counts)}"]
    return "\n".join(lines)


@snapshot.command("list")
@click.option("--org", metavar="ORG", help="Only this org's snapshots.")
@pass_state
def list_(state: State, org: str | None) -> None:
    """Every org snapshot, newest first: id, name, org, counts, who created it and when.

    \b
    Example:
      gitsnap snapshot list --org 64ee9a8b1e7f2a0011223344
    """
    state.emit(state.store.list_snapshots(org), _render_list)


def _render_list(result: SnapshotList) -> str:
    if not result.snapshots:
        return "No snapshots yet (gitsnap snapshot create --org ORG --user UID --name NAME)"
    rows = [[s.id, clip(s.name, 40), s.source_org_id, _short_counts(s.counts), s.created_by_name, s.created_at]
            for s in result.snapshots]
    return table(rows, ["ID", "NAME", "ORG", "P/A/PR/T", "CREATED BY", "CREATED"])


def _short_counts(counts: Counts) -> str:
    return f"{counts.pipelines}/{counts.automations}/{counts.prompts}/{counts.templates}"


@snapshot.command("show")
@click.argument("snapshot_id", metavar="ID")
@pass_state
def show(state: State, snapshot_id: str) -> None:
    """One snapshot: its name, description, source org and user, counts, commit and tag.

    \b
    Example:
      gitsnap snapshot show 6650a1b2c3d4e5f601234567 --json
    """
    state.emit(state.store.show_snapshot(snapshot_id), lambda result: _render_snapshot(result.snapshot))


def _render_snapshot(snapshot: OrgSnapshot) -> str:
    lines = [f"snapshot {snapshot.id}  {snapshot.name}",
             f"  org      {snapshot.source_org_name} ({snapshot.source_org_id})",
             f"  user     {snapshot.source_user_name} <{snapshot.source_user_email}> ({snapshot.source_user_id})",
             f"  created  {snapshot.created_at} by {snapshot.created_by_name}",
             f"  counts   {_counts(snapshot.counts)}",
             f"  commit   {snapshot.commit}",
             f"  tag      {snapshot.tag} (snapshots/{snapshot.source_org_id}/{snapshot.id})"]
    if snapshot.description:
        lines += ["", *(f"  {line}".rstrip() for line in snapshot.description.splitlines())]
    return "\n".join(lines)


@snapshot.command("delete")
@dry_run_option
@click.argument("snapshot_id", metavar="ID")
@pass_state
def delete(state: State, snapshot_id: str) -> None:
    """Delete a snapshot's tag (the commit it pointed at stays in the org's history).

    \b
    Example:
      gitsnap snapshot delete 6650a1b2c3d4e5f601234567
    """
    result = state.store.delete_snapshot(snapshot_id)
    state.emit(result, lambda r: f"Deleted snapshot {r.snapshot.id} {r.snapshot.name!r} "
                                 f"(tag snapshots/{r.snapshot.source_org_id}/{r.snapshot.id})")


@snapshot.command("diff")
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("--patch", "-p", is_flag=True, help="Print a unified diff of the changed YAML files instead.")
@pass_state
def diff(state: State, a: str, b: str, patch: bool) -> None:
    """What changed from A to B: entities added, removed and changed per collection, and changed fields.

    A and B are each a snapshot id, an org id (its live state) or any git revision (a commit,
    orgs/ORG~2). Field paths are dotted, list items by index: settings.delay_minutes, stages[2].name.
    With --patch: the changed files as a unified diff (git apply takes it); with --json the
    structured diff (and the patch under "patch").

    \b
    Example:
      gitsnap snapshot diff 6650a1b2c3d4e5f601234567 64ee9a8b1e7f2a0011223344
      gitsnap snapshot diff 6650a1b2c3d4e5f601234567 6650a1b2c3d4e5f601234599 --patch
    """
    result = state.store.diff_snapshots(a, b, patch)
    state.emit(result, _render_patch if patch else render_diff)


def _render_patch(result: SnapshotDiff) -> str:
    return (result.patch or "").rstrip("\n")





@snapshot.command("apply")
@dry_run_option
@click.argument("snapshot_id", metavar="ID")
@click.option("--to-org", "to_org", required=True, metavar="ORG", help="The org to onboard (an identifier).")
@click.option("--to-name", "to_name", metavar="NAME",
              help="The new org's name (required for a new org; with --replace-config it must match, or be left out).")
@click.option("--user", "user_id", metavar="UID", help="Who applied it (the commit's author): a user of the snapshot's org.")
@click.option("--replace-config", is_flag=True,
              help="Allow an existing org: replace its pipelines, automations, prompts and templates; "
                   "keep its org.yaml, users and stubs.")
@pass_state
def apply(state: State, snapshot_id: str, to_org: str, to_name: str | None, user_id: str | None,
          replace_config: bool) -> None:
    """Onboard an org from snapshot ID: its pipelines, automations, prompts and templates.

    A new org gets a root commit on orgs/ORG with that configuration and an org.yaml of
    {id: ORG, name: NAME}; users and stubs are not copied. The commit's trailer Based-On-Snapshot
    records where it came from. An existing org is refused unless --replace-config is given; then
    the four collections are replaced in one commit and its org.yaml, users and stubs stay as they are
    (no commit when they already match).

    \b
    Example:
      gitsnap snapshot apply 6650a1b2c3d4e5f601234567 --to-org 66aa00000000000000000001 --to-name Initech
      gitsnap snapshot apply 6650a1b2c3d4e5f601234567 --to-org 66aa00000000000000000001 --replace-config
    """
    result = state.store.apply_snapshot(snapshot_id, to_org, to_name, user_id, replace_config)
    state.emit(result, _render_apply)


def _render_apply(result: ApplyResult) -> str:
    if result.skipped:
        return f"No changes: {result.org_name} ({result.org_id}) already has snapshot {result.snapshot_id}'s config"
    if result.created:
        head = f"Created org {result.org_name} ({result.org_id}) from snapshot {result.snapshot_id}"
    else:
        head = f"Replaced the config of {result.org_name} ({result.org_id}) with snapshot {result.snapshot_id}'s"
    return f"{head}: commit {short(result.commit)}\n  {_counts(result.counts)}"
