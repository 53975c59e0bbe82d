"""``gitsnap prompt alias ...``: movable names (production, staging) for a prompt's versions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .base import Group, State, dry_run_option, pass_state, short, table

if TYPE_CHECKING:
    from ..models import AliasDeleteResult, AliasHistory, AliasList, AliasSetResult

ORG_OPTION = click.option("--org", metavar="ORG",
                          help="The prompt's org (needed only when several orgs have the prompt).")
REASON_OPTION = click.option("--reason", metavar="TEXT", help="Why (one line; kept in the alias's history).")
USER_OPTION = click.option("--user", "user_id", metavar="UID",
                           help="Record this org member as who moved it [default: git's identity rules].")
LABEL_VS_ALIAS = ("A version's --label is its own descriptive subject, fixed when it is created; an alias is a "
                  "movable name that points at one version.")


@click.group(cls=Group, help=f"""Aliases: movable names such as production or staging for a prompt's versions.

{LABEL_VS_ALIAS} Wherever a version number is taken (version show, version diff, restore), an
alias or `latest` (always the newest version) is taken too.""")
def alias() -> None:
    pass


@alias.command("set", help=f"""Point alias ALIAS of prompt PROMPT_ID at version N (a number, `latest` or another alias).

{LABEL_VS_ALIAS} Each move is a commit on refs/prompt-aliases/ORG/PROMPT_ID/ALIAS, so its history
stays. When the alias is already at N nothing is written ("skipped", exit 0). --expect M makes the
move a compare-and-swap: the alias must be at version M (or absent, with --expect none), else
exit 4 naming where it is now.

\b
Example:
  gitsnap prompt alias set 65f9b1c2e8a1d4e001a0b1c4 production 4 --reason "Passed the eval"
  gitsnap prompt alias set 65f9b1c2e8a1d4e001a0b1c4 production staging --expect 3
  gitsnap prompt alias set 65f9b1c2e8a1d4e001a0b1c4 staging latest --expect none
""")
@dry_run_option
@click.argument("prompt_id")
@click.argument("name", metavar="ALIAS")
@click.argument("version", metavar="N")
@ORG_OPTION
@click.option("--expect", metavar="M|none", help="Move only if the alias is at version M now (none: if it is absent).")
@REASON_OPTION
@USER_OPTION
@pass_state
def set_(state: State, prompt_id: str, name: str, version: str, org: str | None, expect: str | None,
         reason: str | None, user_id: str | None) -> None:
    result = state.store.set_prompt_alias(prompt_id, name, version, org=org, expect=expect, reason=reason,
                                          user_id=user_id)
    state.emit(result, _render_set)


def _render_set(result: AliasSetResult) -> str:
    what = f"alias {result.alias} of prompt {result.prompt_id}"
    if result.skipped:
        return f"No changes: {what} is already at version {result.version} ({short(result.version_id)})"
    if result.previous_version is None:
        return f"Set {what} to version {result.version} ({short(result.version_id)})"
    return (f"Moved {what} from version {result.previous_version} to version {result.version} "
            f"({short(result.version_id)})")


@alias.command("list", help=f"""The aliases of prompt PROMPT_ID: the version each points at, since when, moved by whom.

{LABEL_VS_ALIAS}

\b
Example:
  gitsnap prompt alias list 65f9b1c2e8a1d4e001a0b1c4
  gitsnap prompt alias list 65f9b1c2e8a1d4e001a0b1c4 --org 64ee9a8b1e7f2a0011223344 --json
""")
@click.argument("prompt_id")
@ORG_OPTION
@pass_state
def list_(state: State, prompt_id: str, org: str | None) -> None:
    state.emit(state.store.list_prompt_aliases(prompt_id, org=org), _render_list)


def _render_list(result: AliasList) -> str:
    if not result.aliases:
        return f"No aliases on prompt {result.prompt_id} (gitsnap prompt alias set {result.prompt_id} production N)"
    rows = [[a.alias, str(a.version), short(a.version_id), a.updated_at, a.updated_by] for a in result.aliases]
    return table(rows, ["ALIAS", "VERSION", "COMMIT", "UPDATED", "BY"])


@alias.command("history", help=f"""Every move of alias ALIAS of prompt PROMPT_ID, newest first, deletions included.

{LABEL_VS_ALIAS} The same history is `git log --first-parent refs/prompt-aliases/ORG/PROMPT_ID/ALIAS`.

\b
Example:
  gitsnap prompt alias history 65f9b1c2e8a1d4e001a0b1c4 production
  gitsnap prompt alias history 65f9b1c2e8a1d4e001a0b1c4 production --limit 10 --json
""")
@click.argument("prompt_id")
@click.argument("name", metavar="ALIAS")
@ORG_OPTION
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="Only the N newest moves.")
@pass_state
def history(state: State, prompt_id: str, name: str, org: str | None, limit: int | None) -> None:
    state.emit(state.store.prompt_alias_history(prompt_id, name, org=org, limit=limit), _render_history)


def _render_history(result: AliasHistory) -> str:
    rows = [["deleted" if m.deleted else str(m.version), "" if m.previous_version is None else str(m.previous_version),
             m.moved_at, m.moved_by, m.reason or ""] for m in result.moves]
    return table(rows, ["VERSION", "FROM", "WHEN", "WHO", "REASON"])


@alias.command("delete", help=f"""Delete alias ALIAS of prompt PROMPT_ID; its history stays, a later set continues it.

{LABEL_VS_ALIAS} The deletion is the last move of the alias's ref (a commit pointing nowhere), so
it travels with push and pull. --expect M deletes only if the alias is at version M (else exit 4).

\b
Example:
  gitsnap prompt alias delete 65f9b1c2e8a1d4e001a0b1c4 staging
  gitsnap prompt alias delete 65f9b1c2e8a1d4e001a0b1c4 staging --expect 3 --reason "Release done"
""")
@dry_run_option
@click.argument("prompt_id")
@click.argument("name", metavar="ALIAS")
@ORG_OPTION
@click.option("--expect", metavar="M", help="Delete only if the alias is at version M now.")
@REASON_OPTION
@USER_OPTION
@pass_state
def delete(state: State, prompt_id: str, name: str, org: str | None, expect: str | None, reason: str | None,
           user_id: str | None) -> None:
    result = state.store.delete_prompt_alias(prompt_id, name, org=org, expect=expect, reason=reason, user_id=user_id)
    state.emit(result, _render_delete)


def _render_delete(result: AliasDeleteResult) -> str:
    return (f"Deleted alias {result.alias} of prompt {result.prompt_id} (it was at version {result.previous_version}); "
            f"its history stays: gitsnap prompt alias history {result.prompt_id} {result.alias}")
