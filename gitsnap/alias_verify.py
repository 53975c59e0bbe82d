"""``gitsnap verify`` of prompt aliases: every move names a version of its own prompt, as gitsnap writes it.

The format is in ``aliases.py``'s docstring. Each move is checked against the one before it
(``Previous-Version``, its parents) and against the prompt's versions (``Version``, ``Version-Id``,
the tree); the first problem of a ref is reported, as for the other refs.
"""

from __future__ import annotations

from collections.abc import Callable

from .aliases import Move, alias_name_problem, move_of
from .gitstore import GitStore
from .models import VerifyCounts, identifier_problem
from .prompts import prompt_ref, version_number


class AliasCheck:
    """``gitsnap verify`` of alias refs: each move names a version of its prompt, as gitsnap writes it.

    Each prompt's versions are read once per run, whatever the number of aliases and moves.
    """

    def __init__(self) -> None:
        self._versions: dict[str, dict[str, tuple[int, str]]] = {}

    def __call__(self, store: GitStore, ref: str, name: str, tip: str, report: Callable[[str, str], None],
                 counts: VerifyCounts) -> None:
        parts = name.split("/")
        if len(parts) != 3 or any(identifier_problem(part) for part in parts[:2]) or alias_name_problem(parts[2]):
            return report(ref, "not a gitsnap ref: prompt aliases are refs/prompt-aliases/<org>/<promptId>/<alias>")
        org, prompt_id, alias = parts
        counts.aliases += 1
        versions = self._versions_of(store, org, prompt_id)
        commits = list(store.objects.history(tip))
        previous, empty_tree = None, store.trees.id_of({})
        for commit in reversed(commits):
            counts.alias_moves += 1
            move = move_of(ref, commit)
            problem = _move_problem(move, previous, versions, (org, prompt_id, alias), empty_tree)
            if problem:
                return report(ref, f"move {commit.id}: {problem}")
            previous = move

    def _versions_of(self, store: GitStore, org: str, prompt_id: str) -> dict[str, tuple[int, str]]:
        """Version commit -> (number, tree) along the prompt's ref (verify of that ref checks the numbering)."""
        ref = prompt_ref(org, prompt_id)
        if ref not in self._versions:
            found = {}
            for commit in store.objects.history(store.refs.read(ref)):
                found[commit.id] = (version_number(commit, ref), commit.tree)
            self._versions[ref] = found
        return self._versions[ref]


def _move_problem(move: Move, previous: Move | None, versions: dict[str, tuple[int, str]],
                  names: tuple[str, str, str], empty_tree: str) -> str | None:
    """What in one move differs from what gitsnap writes after ``previous``, or None."""
    org, prompt_id, alias = names
    said = (move.org, move.prompt_id, move.alias)
    if said != names:
        return f"its Org/Prompt-Id/Alias trailers say {'/'.join(map(str, said))}, the ref names {'/'.join(names)}"
    parents = list(move.commit.parents)
    moved_from = previous.version if previous else None
    if move.previous_version != moved_from:
        return f"Previous-Version is {move.previous_version}, but the move before it left the alias at {moved_from}"
    if move.deleted:
        if previous is None or previous.deleted or parents != [previous.commit.id]:
            return "a deletion must follow a move to a version and have it as its one parent"
        return None if move.commit.tree == empty_tree else "a deletion's tree must be the empty tree"
    expected_parents = [previous.commit.id, move.version_id] if previous else []
    if parents != expected_parents:
        return (f"its parents are {parents or 'none'}; gitsnap writes {expected_parents or 'none'} "
                "(the previous move, then the version)")
    if move.version_id not in versions:
        return f"version {move.version_id} is not a version of prompt {prompt_id} (not on {prompt_ref(org, prompt_id)})"
    number, tree = versions[move.version_id]
    if move.version != number:
        return f"Version is {move.version}, but {move.version_id} is version {number}"
    return None if move.commit.tree == tree else f"its tree is not version {number}'s tree"
