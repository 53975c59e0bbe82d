"""``gitsnap snapshot ...``: org snapshots (annotated tags on an org's live commit)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from ..gitmessage import printable
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
    from ..upgrade import UpgradedOrg, UpgradeResult



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


def _parse_resolve(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    resolve: dict[str, str] = {}
    for value in values:
        path, sep, choice = value.rpartition("=")  # the last "=": a field path may hold one (stages[id="s2"])
        if not sep or not path or choice not in ("ours", "theirs", "base"):
            raise click.BadParameter(f"{value!r} is not PATH=ours|theirs|base")
        if resolve.get(path, choice) != choice:
            raise click.BadParameter(f"{path!r} is answered twice ({resolve[path]} and {choice})")
        resolve[path] = choice
    return resolve


@snapshot.command("upgrade")
@dry_run_option
@click.argument("snapshot_id", metavar="NEW_ID")
@click.option("--to-org", "to_orgs", multiple=True, metavar="ORG", help="An org to upgrade (repeatable).")
@click.option("--all-from", "all_from", metavar="ORG", help="Upgrade every org whose base snapshot is one of ORG's.")
@click.option("--strategy", type=click.Choice(["ours", "theirs"]), help="Answer every conflict no --resolve answers.")
@click.option("--resolve", "resolve", multiple=True, metavar="PATH=ours|theirs|base", callback=_parse_resolve,
              help="Answer the conflict at PATH (<collection>/<id>/<field>, or <collection>/<id> for all of an "
                   "entity's); repeatable.")
@click.option("--user", "user_id", metavar="UID", help="Who upgraded (the commits' author): a user of NEW_ID's org.")
@pass_state
@click.pass_context
def upgrade(ctx: click.Context, state: State, snapshot_id: str, to_orgs: tuple[str, ...], all_from: str | None,
            strategy: str | None, resolve: dict[str, str], user_id: str | None) -> None:
    """Upgrade orgs applied from a snapshot to snapshot NEW_ID: a three-way merge of their config.

    Per org, base = the config of the snapshot it is based on (its Based-On-Snapshot), ours =
    its live pipelines, automations, prompts and templates, theirs = NEW_ID's. Changes made on
    one side are taken; a field changed differently on both, or deleted on one side and changed
    on the other, is a conflict. A clean merge is one commit (Based-On-Snapshot: NEW_ID,
    Upgraded-From-Snapshot: the old one); org.yaml, users and stubs are left as they are.
    An org with conflicts gets nothing; they are listed (path: base -> ours / theirs) for
    --resolve and --strategy. A --resolve path must match a conflict in at least one of the orgs,
    and nothing is written when one does not.

    \b
    Exit status: 0 every org upgraded or up to date; 4 an org had conflicts;
    2 a named org is not derived from a snapshot (or bad input); 3 no such snapshot or org.

    \b
    Example:
      gitsnap snapshot upgrade 6650a1b2c3d4e5f601234599 --to-org 66aa00000000000000000001
      gitsnap snapshot upgrade 6650a1b2c3d4e5f601234599 --all-from 64ee9a8b1e7f2a0011223344 --strategy theirs
      gitsnap snapshot upgrade 6650a1b2c3d4e5f601234599 --to-org 66aa00000000000000000001 \\
          --resolve 'automations/6502a0700000000000000001/settings.delay_minutes=ours'
    """
    result = state.store.upgrade_snapshot(snapshot_id, to_orgs=to_orgs, all_from=all_from, resolve=resolve,
                                          strategy=strategy, user_id=user_id, progress=state.progress())
    state.emit(result, _render_upgrade)
    if result.exit_code:
        ctx.exit(result.exit_code)


def _render_upgrade(result: UpgradeResult) -> str:
    lines = [f"Upgrade to snapshot {result.snapshot_id} {result.snapshot_name!r} of org {result.source_org_id}"]
    width = max((len(org.status) for org in result.orgs), default=0)
    for org in result.orgs:
        lines.append(f"  {org.status:{width}}  {org.org_id}  {printable(org.org_name)}: {_outcome(org)}")
        lines += [f"      {c.path}: {_short(c.base)} → {_short(c.ours)} / {_short(c.theirs)}" for c in org.conflicts]
    if result.counts.conflicts:
        lines.append("Nothing was written for orgs with conflicts; answer them with --resolve PATH=ours|theirs|base "
                     "or --strategy ours|theirs")
    lines.append(result.message)
    return "\n".join(lines)


def _outcome(org: UpgradedOrg) -> str:
    if org.status == "upgraded":
        changes = ", ".join(f"{n} {what}" for what in ("taken", "merged", "added", "deleted")
                            if (n := sum(getattr(s, what) for s in org.summary.values())))
        resolved = f", {len(org.resolved)} conflicts answered" if org.resolved else ""
        return (f"commit {short(org.commit)} from snapshot {org.from_snapshot_id} "
                f"({changes or 'no file changed'}{resolved})")
    if org.status == "conflicts":
        plural = "" if len(org.conflicts) == 1 else "s"
        return f"{len(org.conflicts)} conflict{plural} (from snapshot {org.from_snapshot_id})"
    if org.status == "up to date":
        return f"already based on snapshot {org.from_snapshot_id}"
    return "not applied from a snapshot (no Based-On-Snapshot in its history)"


def _short(value: Any) -> str:
    """A conflict's side in a few words: its JSON, clipped (a whole entity's id is in the path already)."""
    from ..merge import ABSENT

    if value is ABSENT:
        return "(absent)"
    if isinstance(value, dict) and "id" in value:
        value = {key: item for key, item in value.items() if key != "id"}
    return clip(json.dumps(value, ensure_ascii=False, default=str), 40)
