"""``gitsnap init``, ``gitsnap verify`` and ``gitsnap org ...``: the repository and an org's live state."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .base import Command, Group, State, dry_run_option, pass_state, secret_options, short, table
from .base import source as source_of

if TYPE_CHECKING:
    from ..models import ExportResult, ImportResult, OrgList, OrgLog, VerifyResult


def _counts(counts) -> str:
    return f"{counts.pipelines} pipelines, {counts.automations} automations, {counts.prompts} prompts, {counts.templates} templates"


@click.command(cls=Command)
@pass_state
def init(state: State) -> None:
    """Create the bare repository (./gitsnap.git unless --repo or GITSNAP_REPO says otherwise).

    \b
    Example:
      gitsnap init --repo /srv/config/gitsnap.git
    """
    from ..store import Store

    state.emit(Store.init(state.repo), lambda r: f"{r.message} gitsnap repository in {r.repo}")


@click.command(cls=Command)
@pass_state
@click.pass_context
def verify(ctx: click.Context, state: State) -> None:
    """Check that every gitsnap ref holds what gitsnap writes; exit 1 when something does not.

    Live branches: the tip is a valid org tree of canonical YAML. Snapshot tags: complete
    trailers, counts that match the tree. Prompt versions: numbered N..1, one {id, body} file
    each. Stub snapshots: one uuid and creation time across a name's saves. Prompt aliases: each
    move names a version of its prompt. Object-level integrity is git's: git fsck --strict.

    \b
    Example:
      gitsnap verify --repo /srv/config/gitsnap.git
    """
    result = state.store.verify()
    state.emit(result, _render_verify)
    if not result.ok:
        ctx.exit(1)


def _render_verify(result: VerifyResult) -> str:
    c = result.checked
    summary = (f"{c.orgs} orgs, {c.snapshots} snapshots, {c.prompts} prompts ({c.versions} versions), "
               f"{c.stub_snapshots} stub snapshots ({c.saves} saves), {c.aliases} aliases ({c.alias_moves} moves)")
    if result.ok:
        return f"OK: {summary}"
    problems = [f"  {p.ref}: {p.problem}" for p in result.problems]
    return "\n".join([f"{len(result.problems)} problems in {summary}:", *problems])


@click.command(cls=Command)
@click.option("--all-history", is_flag=True, help="Every blob reachable from gitsnap's refs, not only the live trees.")
@pass_state
@click.pass_context
def scan(ctx: click.Context, state: State, all_history: bool) -> None:
    """Find values that look like secrets already in the repository; exit 1 when there is any.

    By default every org's live tree; with --all-history every blob of every gitsnap ref
    (snapshots, prompt versions, stub snapshots, old commits). Each finding names its ref and
    file, the field, the kind and a fingerprint, never the value. Imports refuse such values
    before they are written (see --allow-secret and --redact on org import).

    \b
    Example:
      gitsnap scan
      gitsnap scan --all-history --json
    """
    result = state.store.scan(all_history)
    state.emit(result, _render_scan)
    if result.findings:
        ctx.exit(1)


def _render_scan(result) -> str:
    lines = [f"{result.scanned} files scanned, {len(result.findings)} value(s) look like secrets"]
    lines += [f"  {f.where}: {f.field}: {f.kind} (fingerprint {f.fingerprint})" for f in result.findings]
    return "\n".join(lines)


def redaction_lines(result) -> list[str]:
    """One line per value stored as ${secret:<fingerprint>} instead of what looked like a secret."""
    return [f"  redacted {f.where}: {f.field} ({f.kind}) -> ${{secret:{f.fingerprint}}}" for f in result.redacted]


@click.group(cls=Group)
def org() -> None:
    """An org's live state: import, export, list, log."""


@org.command("import")
@dry_run_option
@secret_options
@click.argument("source")
@click.option("--user", "user_id", metavar="UID", help="Author of the commit, one of the org's users (default: you).")
@click.option("-m", "--message", help="Commit subject (default: 'Import <org name>').")
@pass_state
def import_(state: State, source: str, user_id: str | None, message: str | None) -> None:
    """Replace an org's live state with SOURCE: a directory, a .json/.yaml document, or - (stdin).

    Entities missing from SOURCE are deleted. When nothing changed, no commit is made.

    \b
    Example:
      gitsnap org import fixtures/acme --user 64ee9a8b1e7f2a0011223399
      curl -s https://platform/api/export | gitsnap org import -
    """
    result = state.store.import_org(source_of(source), user_id, message, progress=state.progress(), **state.secrets)
    state.emit(result, _render_import)


def _render_import(result: ImportResult) -> str:
    if result.skipped:
        lines = [f"No changes: {result.org_name} ({result.org_id}) is already at {short(result.commit)}"]
    else:
        files = result.files
        lines = [f"Imported {result.org_name} ({result.org_id}): commit {short(result.commit)}",
                 f"  files: {files.added} added, {files.changed} changed, {files.removed} removed",
                 f"  {_counts(result.counts)}"]
    return "\n".join(lines + redaction_lines(result))


@org.command("export")
@click.argument("org_or_rev", metavar="ORG_OR_REV")
@click.option("--out", metavar="PATH", help="A new directory (or, with --format, a file) to write.")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), help="One document instead of a directory.")
@pass_state
def export(state: State, org_or_rev: str, out: str | None, fmt: str | None) -> None:
    """Export an org's live state, or any revision (snapshot tag, commit, orgs/ID~2).

    With --out and no --format: a directory in the org-tree layout. Otherwise one YAML (default) or
    JSON document, to --out or stdout.

    \b
    Example:
      gitsnap org export 64ee9a8b1e7f2a0011223344 --out /tmp/acme
      gitsnap org export orgs/64ee9a8b1e7f2a0011223344~1 --format json > acme-before.json
    """
    if state.as_json and out is None:
        fmt = "json"
    result, document = state.store.export_org(org_or_rev, out, fmt)
    if document is not None:
        click.echo(document, nl=False)
    else:
        state.emit(result, _render_export)


def _render_export(result: ExportResult) -> str:
    what = f"{result.files} files" if result.files != 1 else "1 document"
    return f"Exported {result.org_id} at {short(result.commit)} to {result.out} ({what})"


@org.command("diff")
@click.argument("org_id", metavar="ORG")
@click.argument("source")
@click.option("--exit-code", is_flag=True, help="Exit 1 when there is drift, 0 when there is none (as git diff --exit-code).")
@click.option("--patch", "-p", is_flag=True, help="Print a unified diff of the YAML files instead.")
@pass_state
@click.pass_context
def diff(ctx: click.Context, state: State, org_id: str, source: str, exit_code: bool, patch: bool) -> None:
    """The drift from ORG's live state to SOURCE, what the platform exports now (a directory, a document, or -).

    Entities only on the platform are added, only in the repository removed (orphans), and
    changed ones list their fields; the same shape as gitsnap snapshot diff, with the source
    as "to". Nothing is written. Bad SOURCE input gets the import's errors (exit 2).

    \b
    Example:
      gitsnap org diff 64ee9a8b1e7f2a0011223344 ./export --exit-code
      curl -s https://platform/api/export | gitsnap org diff 64ee9a8b1e7f2a0011223344 - --json
    """
    from .diffs import render_diff

    result = state.store.org_diff(org_id, source_of(source), patch)
    state.emit(result, (lambda r: (r.patch or "").rstrip("\n")) if patch else render_diff)
    if exit_code and not result.empty:
        ctx.exit(1)


@org.command("list")
@pass_state
def list_(state: State) -> None:
    """Every org with its live commit and entity counts.

    \b
    Example:
      gitsnap org list
    """
    state.emit(state.store.list_orgs(), _render_list)


def _render_list(result: OrgList) -> str:
    if not result.orgs:
        return "No orgs yet (gitsnap org import SOURCE)"
    rows = [[o.id, o.name, short(o.commit), o.updated_at, str(o.counts.pipelines), str(o.counts.automations),
             str(o.counts.prompts), str(o.counts.templates)] for o in result.orgs]
    return table(rows, ["ORG", "NAME", "COMMIT", "UPDATED", "PIPELINES", "AUTOMATIONS", "PROMPTS", "TEMPLATES"])


@org.command("log")
@click.argument("org_id", metavar="ORG")
@click.option("-n", "--limit", type=click.IntRange(min=1), help="Show at most this many commits.")
@pass_state
def log(state: State, org_id: str, limit: int | None) -> None:
    """The history of an org's live state, newest first.

    \b
    Example:
      gitsnap org log 64ee9a8b1e7f2a0011223344 -n 5
    """
    state.emit(state.store.org_log(org_id, limit), _render_log)


def _render_log(result: OrgLog) -> str:
    return "\n".join(f"{short(c.commit)}  {c.created_at}  {c.author_name} <{c.author_email}>  {c.subject}"
                     for c in result.commits)
