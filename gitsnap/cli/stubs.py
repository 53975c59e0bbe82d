"""``gitsnap stub snapshot ...``: named snapshots of a stub or of one of its GPT chat tasks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from ..names import DEFAULT_SNAPSHOT_NAME as DEFAULT_NAME
from ..names import SNAPSHOT_TYPES, STUB_TYPE
from .base import Group, State, dry_run_option, pass_state, secret_options, short, table
from .base import source as source_of

if TYPE_CHECKING:
    from ..models import StubDeleteResult, StubRestoreResult, StubSnapshotList, StubSnapshotResult


@click.group(cls=Group)
def stub() -> None:
    """Workflow stubs: named snapshots of a stub and its GPT chat tasks."""


@stub.group()
def snapshot() -> None:
    """Save, list, show, restore and delete a stub's named snapshots."""


def _selectors(command: Callable) -> Callable:
    """The options that name one snapshot: --org, --type, --name, --chat."""
    for option in reversed([
        click.option("--org", metavar="ORG", help="The stub's org (needed only when several orgs have the stub)."),
        click.option("--type", "snapshot_type", type=click.Choice(SNAPSHOT_TYPES), default=STUB_TYPE, show_default=True,
                     help="A snapshot of the stub, or of one GPT chat task (with --chat)."),
        click.option("--name", default=DEFAULT_NAME, show_default=True, help="The snapshot's name (an identifier)."),
        click.option("--chat", metavar="CHAT", help="The chat, for --type gpt_chat_task."),
    ]):
        command = option(command)
    return command


def _parse_children(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    children: dict[str, str] = {}
    for value in values:
        key, sep, chat = value.partition("=")
        if not sep:
            raise click.BadParameter(f"{value!r} is not KEY=CHAT")
        if key in children:
            raise click.BadParameter(f"the key {key!r} is given twice")
        children[key] = chat
    return children


@snapshot.command("save")
@dry_run_option
@secret_options
@click.argument("stubref")
@_selectors
@click.option("--all-chats", is_flag=True, help="Also snapshot every chat of the stub, as child snapshots.")
@click.option("--child", "children", multiple=True, metavar="KEY=CHAT", callback=_parse_children,
              help="Also snapshot CHAT as a child snapshot recorded under KEY (repeatable).")
@click.option("--from", "source", metavar="FILE",
              help="A stub document {stubref, data, chats} (.json/.yaml, - for stdin) to make live first.")
@pass_state
def save(state: State, stubref: str, org: str | None, snapshot_type: str, name: str, chat: str | None,
         all_chats: bool, children: dict[str, str], source: str | None) -> None:
    """Save the live state of stub STUBREF (or of one chat) under a name.

    Saving again under the same type and name overwrites the snapshot: its ref moves to a new
    commit whose parent is the previous save, keeping its uuid and createdAt. An unchanged state
    moves nothing. Child chat snapshots (--all-chats, --child) are saved first under the same
    name, then the stub snapshot that references them.

    \b
    Example:
      gitsnap stub snapshot save lead-intake-flow --name before-escalation --all-chats
      gitsnap stub snapshot save lead-intake-flow --name pick --child cust=customer_support
      gitsnap stub snapshot save lead-intake-flow --type gpt_chat_task --chat customer_support --name mid-call
      gitsnap stub snapshot save lead-intake-flow --from stub.json
    """
    result = state.store.save_stub_snapshot(stubref, org=org, snapshot_type=snapshot_type, name=name, chat=chat,
                                            all_chats=all_chats, children=children, source=source_of(source),
                                            **state.secrets)
    state.emit(result, _render_save)


def _what(result: StubSnapshotResult) -> str:
    snapshot = result.snapshot
    if snapshot.snapshot_type == STUB_TYPE:
        return f"stub snapshot {snapshot.snapshot_name} of {snapshot.stubref}"
    return f"gpt_chat_task snapshot {snapshot.snapshot_name} of chat {result.chat_name} of {snapshot.stubref}"


def _children_lines(result: StubSnapshotResult) -> list[str]:
    return [f"  child {c.key}: chat {c.chat_name} ({c.stubber_snapshot_uuid})" for c in result.children]


def _render_save(result: StubSnapshotResult) -> str:
    snapshot = result.snapshot
    if result.saved:
        head = f"Saved {_what(result)}: commit {short(result.commit)}"
    else:
        head = f"No changes: {_what(result)} is already at {short(result.commit)}"
    return "\n".join([head, f"  uuid {snapshot.stubber_snapshot_uuid}, created {snapshot.created_at}, "
                            f"updated {snapshot.updated_at}", *_children_lines(result)])


@snapshot.command("list")
@click.argument("stubref")
@click.option("--org", metavar="ORG", help="The stub's org (needed only when several orgs have the stub).")
@pass_state
def list_(state: State, stubref: str, org: str | None) -> None:
    """Every named snapshot of stub STUBREF, both types, with its number of saves.

    \b
    Example:
      gitsnap stub snapshot list lead-intake-flow
    """
    state.emit(state.store.list_stub_snapshots(stubref, org=org), _render_list)


def _render_list(result: StubSnapshotList) -> str:
    if not result.snapshots:
        return f"No snapshots of {result.stubref} yet (gitsnap stub snapshot save {result.stubref})"
    rows = [[s.snapshot_type, s.snapshot_name, s.chat_name or "", s.stubber_snapshot_uuid, s.created_at,
             s.updated_at, str(s.saves), " ".join(f"{c.key}={c.chat_name}" for c in s.children)]
            for s in result.snapshots]
    return table(rows, ["TYPE", "NAME", "CHAT", "UUID", "CREATED", "UPDATED", "SAVES", "CHILDREN"])


@snapshot.command("show")
@click.argument("stubref")
@_selectors
@pass_state
def show(state: State, stubref: str, org: str | None, snapshot_type: str, name: str, chat: str | None) -> None:
    """Show one snapshot: its uuid, times, children and the saved state.

    A stub snapshot's state is its stub.yaml data, plus its children's chat states under "chats"
    (a stub document, as --from takes it).

    \b
    Example:
      gitsnap stub snapshot show lead-intake-flow --name before-escalation
      gitsnap stub snapshot show lead-intake-flow --type gpt_chat_task --chat customer_support --name mid-call --json
    """
    result = state.store.show_stub_snapshot(stubref, org=org, snapshot_type=snapshot_type, name=name, chat=chat)
    state.emit(result, _render_show)


def _render_show(result: StubSnapshotResult) -> str:
    from .. import yamlio

    snapshot = result.snapshot
    lines = [f"{_what(result)} in org {snapshot.orguuid}", f"  commit {result.commit}",
             f"  uuid {snapshot.stubber_snapshot_uuid}, created {snapshot.created_at}, updated {snapshot.updated_at}",
             *_children_lines(result), "", yamlio.dump(snapshot.snapshot).decode().rstrip("\n")]
    return "\n".join(lines)


@snapshot.command("restore")
@dry_run_option
@click.argument("stubref")
@_selectors
@pass_state
def restore(state: State, stubref: str, org: str | None, snapshot_type: str, name: str, chat: str | None) -> None:
    """Put a snapshot back into the org's live state, in one commit.

    A stub snapshot restores stub.yaml and the chats saved as its children; live chats that are
    not in the snapshot are kept as they are. A gpt_chat_task snapshot restores that chat only.
    When the live state already matches, no commit is made.

    \b
    Example:
      gitsnap stub snapshot restore lead-intake-flow --name before-escalation
      gitsnap stub snapshot restore lead-intake-flow --type gpt_chat_task --chat customer_support --name mid-call
    """
    result = state.store.restore_stub_snapshot(stubref, org=org, snapshot_type=snapshot_type, name=name, chat=chat)
    state.emit(result, _render_restore)


def _render_restore(result: StubRestoreResult) -> str:
    what = f"snapshot {result.snapshot_name}" + (f" of chat {result.chat_name}" if result.chat_name else "")
    if result.skipped:
        lines = [f"No changes: {result.stubref} in org {result.orguuid} already matches {what}"]
    else:
        lines = [f"Restored {result.stubref} from {what} in org {result.orguuid}: commit {short(result.commit)}",
                 *(f"  {path}" for path in result.files)]
    if result.kept_chats:
        lines.append(f"  kept live chats not in the snapshot: {', '.join(result.kept_chats)}")
    return "\n".join(lines)


@snapshot.command("delete")
@dry_run_option
@click.argument("stubref")
@_selectors
@click.option("--with-children", is_flag=True,
              help="Also delete the child chat snapshots the stub snapshot references.")
@pass_state
def delete(state: State, stubref: str, org: str | None, snapshot_type: str, name: str, chat: str | None,
           with_children: bool) -> None:
    """Delete a named snapshot (its ref; every save of it goes with it).

    Child snapshots stay unless --with-children is given; even then, a child that was deleted and
    saved again since (a new uuid) is kept.

    \b
    Example:
      gitsnap stub snapshot delete lead-intake-flow --name pick --with-children
    """
    result = state.store.delete_stub_snapshot(stubref, org=org, snapshot_type=snapshot_type, name=name, chat=chat,
                                              with_children=with_children)
    state.emit(result, _render_delete)


def _render_delete(result: StubDeleteResult) -> str:
    lines = [f"Deleted {d.ref} ({d.stubber_snapshot_uuid})" for d in result.deleted]
    lines += [f"  kept child {c.key}: chat {c.chat_name} ({c.stubber_snapshot_uuid})" for c in result.kept_children]
    return "\n".join(lines)
