"""``Store``: the Python API, one method per operation; the CLI is a thin layer over it.

Each method imports the domain module it calls, so a command loads only what it uses (start-up is
part of every command's time).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .gitstore import GitStore
from .names import DEFAULT_PROMPT_SOURCE, DEFAULT_REPO
from .progress import Progress
from .secretguard import SecretPolicy
from .sources import Source

if TYPE_CHECKING:
    from .models import (
        AliasDeleteResult,
        AliasHistory,
        AliasList,
        AliasSetResult,
        ApplyResult,
        CloneResult,
        ExportResult,
        ImportResult,
        InitResult,
        OrgList,
        OrgLog,
        PromptRestoreResult,
        PromptVersionDetail,
        PromptVersionDiff,
        PromptVersionList,
        PromptVersionResult,
        PullResult,
        PushResult,
        RefChange,
        RemoteList,
        RemoteResult,
        ScanResult,
        SnapshotDiff,
        SnapshotList,
        SnapshotResult,
        SnapshotShow,
        StubDeleteResult,
        StubRestoreResult,
        StubSnapshotList,
        StubSnapshotResult,
        VerifyResult,
    )
    from .upgrade import UpgradeResult


class Store:
    """A gitsnap repository (a bare git repository); a context manager that closes it on exit."""

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_REPO, dry_run: bool = False):
        """``dry_run``: every operation computes all it would do and moves no ref (see ``planned_changes``)."""
        self.git = GitStore(path, dry_run=dry_run)
        self.path = self.git.path

    @property
    def dry_run(self) -> bool:
        return self.git.dry_run

    def planned_changes(self) -> list[RefChange]:
        """In a dry run, each ref the operations so far would have moved, live branches with their entity diff."""
        from . import orgs

        return orgs.ref_changes(self.git)

    def close(self) -> None:
        """Release the repository's open pack files."""
        self.git.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @staticmethod
    def init(path: str | os.PathLike[str] = DEFAULT_REPO) -> InitResult:
        """Create the bare repository (nothing changes when one is already there)."""
        from .models import InitResult

        git, created = GitStore.init(path)
        git.close()
        message = "Initialized empty" if created else "Reinitialized existing"
        return InitResult(message=message, repo=os.path.abspath(git.path), created=created)

    # --- orgs ---

    def import_org(self, source: Source, user_id: str | None = None, message: str | None = None,
                   progress: Progress | None = None, name: str | None = None, *, org: str | None = None,
                   allow_secrets: Iterable[str] = (), redact_secrets: bool = False) -> ImportResult:
        """Replace an org's live state with a directory, a .json/.yaml document, its bytes or a binary stream.

        ``name`` is how errors name a source that is not a path (``<stdin>``, ``<request body>``); with
        ``org``, a source holding another org is refused. A value that looks like a secret refuses the
        import unless its fingerprint is in ``allow_secrets`` or ``redact_secrets`` stores a reference.
        """
        from . import orgs

        return orgs.import_org(self.git, source, user_id, message, progress, name, org,
                               SecretPolicy(frozenset(allow_secrets), redact_secrets))

    def export_org(self, what: str, out: str | None = None, fmt: str | None = None) -> tuple[ExportResult, str | None]:
        """Export an org (or any revision) as a directory or a document."""
        from . import orgs

        return orgs.export_org(self.git, what, out, fmt)

    def org_diff(self, org: str, source: Source, patch: bool = False, name: str | None = None) -> SnapshotDiff:
        """The drift from the org's live state to ``source`` (what the platform exports now); nothing is written."""
        from . import orgs

        return orgs.drift(self.git, org, source, patch, name)

    def list_orgs(self, *, among: Collection[str] | None = None) -> OrgList:
        """Every org (or only those ``among`` these) with its live commit and counts."""
        from . import orgs

        return orgs.list_orgs(self.git, among)

    def org_document(self, org_id: str) -> dict[str, Any]:
        """The one-document form of an org's live state, as ``org export --format json`` prints it."""
        from . import orgs

        return orgs.org_document(self.git, org_id)

    def org_log(self, org_id: str, limit: int | None = None) -> OrgLog:
        from . import orgs

        return orgs.org_log(self.git, org_id, limit)

    # --- org snapshots ---

    def create_snapshot(self, org: str, user_id: str, name: str, description: str = "",
                        source: Source | None = None, progress: Progress | None = None,
                        allow_secrets: Iterable[str] = (), redact_secrets: bool = False) -> SnapshotResult:
        """Tag the org's live commit as a named snapshot (importing ``source`` first when given)."""
        from . import snapshots

        return snapshots.create_snapshot(self.git, org, user_id, name, description, source, progress,
                                         SecretPolicy(frozenset(allow_secrets), redact_secrets))

    # ``among``: look only in these orgs; a snapshot elsewhere is not found, exactly as one that does not exist.

    def list_snapshots(self, org: str | None = None, *, among: Collection[str] | None = None) -> SnapshotList:
        """Every org snapshot (or one org's, or those of the orgs ``among``), newest first."""
        from . import snapshots

        return snapshots.list_snapshots(self.git, org, among)

    def show_snapshot(self, snapshot_id: str, *, among: Collection[str] | None = None) -> SnapshotShow:
        from . import snapshots

        return snapshots.show_snapshot(self.git, snapshot_id, among)

    def delete_snapshot(self, snapshot_id: str, *, among: Collection[str] | None = None) -> SnapshotResult:
        from . import snapshots

        return snapshots.delete_snapshot(self.git, snapshot_id, among)

    def diff_snapshots(self, a: str, b: str, patch: bool = False) -> SnapshotDiff:
        """Entity- and field-level differences between two snapshots, orgs or revisions."""
        from . import snapshot_diff

        return snapshot_diff.diff_states(self.git, a, b, patch)

    def apply_snapshot(self, snapshot_id: str, to_org: str, to_name: str | None = None, user_id: str | None = None,
                       replace_config: bool = False, *, among: Collection[str] | None = None) -> ApplyResult:
        """Onboard a new org from a snapshot's config (or, with ``replace_config``, replace an org's)."""
        from . import snapshots

        return snapshots.apply_snapshot(self.git, snapshot_id, to_org, to_name, user_id, replace_config, among)

    def upgrade_snapshot(self, snapshot_id: str, *, to_orgs: Sequence[str] = (), all_from: str | None = None,
                         resolve: Mapping[str, str] | None = None, strategy: str | None = None,
                         user_id: str | None = None, progress: Progress | None = None) -> UpgradeResult:
        """Three-way merge orgs applied from a snapshot (``to_orgs``, or all of ``all_from``'s) onto a newer one.

        Per org: ``upgraded`` (one commit), ``up to date``, ``conflicts`` (nothing written) or
        ``not derived``; ``resolve`` (``<collection>/<id>[/<field>]`` -> ours|theirs|base) and
        ``strategy`` (ours|theirs) answer conflicts. ``result.exit_code`` is the CLI's exit status.
        """
        from . import upgrade

        return upgrade.upgrade_snapshot(self.git, snapshot_id, to_orgs, all_from, resolve, strategy, user_id, progress)

    # --- stub snapshots ---

    def stub_org(self, stubref: str, *, among: Collection[str] | None = None, live_only: bool = False) -> str:
        """The one org (of ``among``) holding the stub live or, unless ``live_only``, with snapshots of it."""
        from . import stubs

        return stubs.stub_org(self.git, stubref, among, live_only)

    def save_stub_snapshot(self, stubref: str, *, org: str | None = None, snapshot_type: str = "stub",
                           name: str = "_default", chat: str | None = None, all_chats: bool = False,
                           children: Mapping[str, str] | None = None, source: Source | None = None,
                           allow_secrets: Iterable[str] = (), redact_secrets: bool = False) -> StubSnapshotResult:
        """Save a stub (with all or chosen chats as children) or one GPT chat task under a name."""
        from . import stubs

        selector = stubs.Selector(snapshot_type, name, chat)
        return stubs.save_snapshot(self.git, stubref, org, selector, all_chats, children, source,
                                   SecretPolicy(frozenset(allow_secrets), redact_secrets))

    def list_stub_snapshots(self, stubref: str, *, org: str | None = None) -> StubSnapshotList:
        from . import stubs

        return stubs.list_snapshots(self.git, stubref, org)

    def show_stub_snapshot(self, stubref: str, *, org: str | None = None, snapshot_type: str = "stub",
                           name: str = "_default", chat: str | None = None) -> StubSnapshotResult:
        from . import stubs

        return stubs.show_snapshot(self.git, stubref, org, stubs.Selector(snapshot_type, name, chat))

    def restore_stub_snapshot(self, stubref: str, *, org: str | None = None, snapshot_type: str = "stub",
                              name: str = "_default", chat: str | None = None) -> StubRestoreResult:
        """Put a snapshot's stub (and its saved chats), or its one chat, back into the live state."""
        from . import stubs

        return stubs.restore_snapshot(self.git, stubref, org, stubs.Selector(snapshot_type, name, chat))

    def delete_stub_snapshot(self, stubref: str, *, org: str | None = None, snapshot_type: str = "stub",
                             name: str = "_default", chat: str | None = None,
                             with_children: bool = False) -> StubDeleteResult:
        from . import stubs

        return stubs.delete_snapshot(self.git, stubref, org, stubs.Selector(snapshot_type, name, chat), with_children)

    # --- prompt versions ---

    def prompt_org(self, prompt_id: str, *, among: Collection[str] | None = None, live_only: bool = False) -> str:
        """The one org (of ``among``) holding the prompt live or, unless ``live_only``, with versions of it."""
        from . import prompts

        return prompts.prompt_org(self.git, prompt_id, among, live_only)

    def create_prompt_version(self, prompt_id: str, *, org: str | None = None, text: str | None = None,
                              file: Source | None = None, label: str | None = None, display_version: str | None = None,
                              title: str | None = None, description: str | None = None,
                              source: str = DEFAULT_PROMPT_SOURCE) -> PromptVersionResult:
        """Snapshot the prompt's text (the live body, ``text``, or ``file``: a path or a binary stream) as a new version.

        Unchanged text from the latest version is a no-op: ``skipped`` is true and the latest version is returned.
        """
        from . import prompts

        checkpoint = prompts.Checkpoint(label, display_version, title, description, source)
        return prompts.create_version(self.git, prompt_id, org, text, file, checkpoint)

    def list_prompt_versions(self, prompt_id: str, *, org: str | None = None, limit: int | None = None,
                             preview: bool = True) -> PromptVersionList:
        """The prompt's versions, newest first, with their aliases; ``preview=False`` skips reading texts (faster)."""
        from . import aliases, prompts

        return aliases.with_aliases(self.git, prompts.list_versions(self.git, prompt_id, org, limit, preview))

    # A version is a number (3 or "3"), "latest" or an alias ("production") wherever one is taken.

    def show_prompt_version(self, prompt_id: str, version: int | str, *, org: str | None = None) -> PromptVersionDetail:
        from . import aliases, prompts

        return aliases.with_aliases(self.git, prompts.show_version(self.git, prompt_id, version, org))

    def diff_prompt_versions(self, prompt_id: str, old: int | str, new: int | str, *,
                             org: str | None = None) -> PromptVersionDiff:
        from . import prompts

        return prompts.diff_versions(self.git, prompt_id, old, new, org)

    def restore_prompt_version(self, prompt_id: str, version: int | str, *, org: str | None = None,
                               user_id: str | None = None) -> PromptRestoreResult:
        """Make a version's text (or ``latest``'s, an alias's) the live prompt's body, in one commit on the org's
        live branch (authored by ``user_id``)."""
        from . import prompts

        return prompts.restore_version(self.git, prompt_id, version, org, user_id)

    # --- prompt aliases: movable names for versions (a version's label is its own fixed subject) ---

    def set_prompt_alias(self, prompt_id: str, alias: str, version: int | str, *, org: str | None = None,
                         expect: int | str | None = None, reason: str | None = None,
                         user_id: str | None = None) -> AliasSetResult:
        """Point an alias at a version; ``expect`` (a number, or "none" for absent) makes it a compare-and-swap.

        Already there: a no-op (``skipped``). ``user_id`` (an org member) is recorded as who moved it.
        """
        from . import aliases

        return aliases.set_alias(self.git, prompt_id, alias, version, org, expect, reason, user_id)

    def delete_prompt_alias(self, prompt_id: str, alias: str, *, org: str | None = None,
                            expect: int | str | None = None, reason: str | None = None,
                            user_id: str | None = None) -> AliasDeleteResult:
        """Delete an alias: a last move to nowhere, so its history stays (a later set continues it)."""
        from . import aliases

        return aliases.delete_alias(self.git, prompt_id, alias, org, expect, reason, user_id)

    def list_prompt_aliases(self, prompt_id: str, *, org: str | None = None) -> AliasList:
        from . import aliases

        return aliases.list_aliases(self.git, prompt_id, org)

    def prompt_alias_history(self, prompt_id: str, alias: str, *, org: str | None = None,
                             limit: int | None = None) -> AliasHistory:
        """Every move of an alias, newest first, its deletions included."""
        from . import aliases

        return aliases.alias_history(self.git, prompt_id, alias, org, limit)

    # --- secrets ---

    def scan(self, all_history: bool = False) -> ScanResult:
        """Values that look like secrets in every org's live tree, or in every blob of gitsnap's refs."""
        from . import secretguard

        return secretguard.scan_repository(self.git, all_history)

    # --- verify ---

    def verify(self) -> VerifyResult:
        """Check every gitsnap ref against what gitsnap writes; the result lists each problem."""
        from . import verify

        return verify.verify(self.git)

    # --- remotes (imported on first use: the transports are heavy) ---

    def add_remote(self, name: str, url: str) -> RemoteResult:
        """Record a remote in the repository's git config (credentials in the URL are not stored)."""
        from . import remotes

        return remotes.add_remote(self.git, name, url)

    def list_remotes(self) -> RemoteList:
        from . import remotes

        return remotes.list_remotes(self.git)

    def remove_remote(self, name: str) -> RemoteResult:
        from . import remotes

        return remotes.remove_remote(self.git, name)

    def push(self, remote: str | None = None, *, org: str | None = None, prune: bool = False,
             username: str | None = None, password: str | None = None,
             progress: Progress | None = None) -> PushResult:
        """Push gitsnap's refs (or one org's) to a remote or URL; all or nothing when any is not a fast-forward."""
        from . import remotes

        return remotes.push(self.git, remote, org, prune, username, password, progress)

    def pull(self, remote: str | None = None, *, org: str | None = None, username: str | None = None,
             password: str | None = None, progress: Progress | None = None) -> PullResult:
        """Fetch a remote's gitsnap refs and fast-forward the local ones; diverged refs stay (Conflict)."""
        from . import remotes

        return remotes.pull(self.git, remote, org, username, password, progress)

    @staticmethod
    def clone(url: str, path: str | os.PathLike[str], *, username: str | None = None, password: str | None = None,
              progress: Progress | None = None) -> CloneResult:
        """A new repository at ``path`` holding every gitsnap ref of ``url``, with it as remote ``origin``."""
        from . import remotes

        return remotes.clone(url, os.fspath(path), username, password, progress)
