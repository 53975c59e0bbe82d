"""Prompt version checkpoints: create (a no-op when the text is unchanged), list, show, diff, restore.

A prompt's versions are a linear history on ``refs/prompts/<org>/<promptId>``, one commit per
version. The tree is one file, ``prompt.yaml``, the canonical YAML of ``{id, body}`` only: the same
text is always the same tree, so "unchanged" is one comparison of tree ids. The rest is the
commit message::

    <label, or "Version N">

    <description>

    Version: N
    Display-Version: v1.4        (when given)
    Title: Pre-launch            (when given)
    Source: manual_save
    Prompt-Id: <promptId>
    Org: <org>

The next number is the tip's ``Version`` plus one: history is never walked to number a version.
Wherever a version number is taken, ``latest`` and an alias are taken too (``aliases.py``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection
from itertools import islice
from typing import NamedTuple

from . import layout, yamlio
from .errors import InvalidInput, NotFound, RepositoryError
from .gitmessage import CommitInfo, check_one_line, check_text, format_message, split_message
from .gitstore import GitStore
from .gittrees import BLOB_MODE
from .models import (
    PromptRestoreResult,
    PromptVersionDetail,
    PromptVersionDiff,
    PromptVersionList,
    PromptVersionResult,
    PromptVersionSnapshot,
    iso_utc,
    require_identifier,
)
from .names import DEFAULT_PROMPT_SOURCE, PROMPT_SOURCES
from .orgs import author_identity, find_org, org_ref, org_tip, write_live
from .snapshots import read_member
from .sources import Source, read_source_bytes, source_name

PROMPT_FILE = "prompt.yaml"
REFS_PREFIX = "refs/prompts/"
SOURCES, DEFAULT_SOURCE = PROMPT_SOURCES, DEFAULT_PROMPT_SOURCE
PREVIEW_LENGTH = 120


def prompt_ref(org: str, prompt_id: str) -> str:
    return f"{REFS_PREFIX}{org}/{prompt_id}"


class Checkpoint(NamedTuple):
    """What a new version says about itself besides its text."""

    label: str | None = None
    display_version: str | None = None
    title: str | None = None
    description: str | None = None
    source: str = DEFAULT_SOURCE

    def checked(self) -> Checkpoint:
        """This checkpoint with its fields trimmed (blank means not given); InvalidInput when one is bad."""
        if self.source not in SOURCES:
            raise InvalidInput(f"source {self.source!r} is not one of {', '.join(SOURCES)}")
        values = {}
        for field, what in (("label", "label"), ("display_version", "display version"), ("title", "title"),
                            ("description", "description")):
            value = getattr(self, field)
            if value is None:
                continue
            if not isinstance(value, str):
                raise InvalidInput(f"{what} must be a string, got {type(value).__name__}")
            if field == "description":
                values[field] = check_text(what, value).strip(" \t\r\n") or None
            else:
                values[field] = check_one_line(what, value).strip(" \t") or None
        return self._replace(**values)

    def message(self, number: int, prompt_id: str, org: str) -> str:
        trailers = [("Version", str(number))]
        trailers += [("Display-Version", self.display_version)] if self.display_version else []
        trailers += [("Title", self.title)] if self.title else []
        trailers += [("Source", self.source), ("Prompt-Id", prompt_id), ("Org", org)]
        return format_message(self.label or f"Version {number}", self.description or "", trailers)


# --- the live prompt and version trees ---------------------------------------------------------------


def live_prompt_path(prompt_id: str) -> str:
    return layout.entity_path("prompts", prompt_id)


def _live_prompt(store: GitStore, tree: str, prompt_id: str) -> dict | None:
    """The prompt's document in an org tree, or None when the tree has no such prompt."""
    entry = store.trees.lookup(tree, live_prompt_path(prompt_id))
    if entry is None:
        return None
    prompt = yamlio.load(store.objects.read_blob(entry[1]))
    if not isinstance(prompt, dict) or not isinstance(prompt.get("body"), str):
        raise RepositoryError(f"{live_prompt_path(prompt_id)} in tree {tree} is not a prompt with a text body")
    return prompt


def _live_body(store: GitStore, org: str, prompt_id: str) -> str | None:
    """The prompt's body in the org's live state; None when the org or the prompt is not there."""
    tip = store.refs.read(org_ref(org))
    prompt = _live_prompt(store, store.objects.read_commit(tip).tree, prompt_id) if tip else None
    return prompt["body"] if prompt else None


def _content(prompt_id: str, text: str) -> bytes:
    return yamlio.dump({"id": prompt_id, "body": text})


def _tree_of(store: GitStore, prompt_id: str, text: str | None) -> str | None:
    """The tree id a version of ``text`` has (nothing is written); None for no text."""
    if text is None:
        return None
    return store.trees.id_of({PROMPT_FILE: (BLOB_MODE, store.objects.blob_id(_content(prompt_id, text)))})


def _text(store: GitStore, commit: CommitInfo) -> str:
    """A version's text, from its tree's one file."""
    return _text_in(commit, store.trees.read_file(commit.tree, PROMPT_FILE))


def _text_in(commit: CommitInfo, content: bytes | None) -> str:
    """The text in a version's ``prompt.yaml``."""
    data = yamlio.load(content) if content is not None else None
    if not isinstance(data, dict) or not isinstance(data.get("body"), str):
        raise RepositoryError(f"prompt version {commit.id} has no {PROMPT_FILE} with a text body")
    return data["body"]


def version_number(commit: CommitInfo, ref: str, trailers: dict[str, list[str]] | None = None) -> int:
    values = (commit.trailers if trailers is None else trailers).get("Version")
    if not values or not (values[0].isascii() and values[0].isdigit()):
        raise RepositoryError(f"{ref}: commit {commit.id} is not a gitsnap prompt version (no Version trailer)")
    return int(values[0])


def _preview(text: str) -> str:
    return text if len(text) <= PREVIEW_LENGTH else text[:PREVIEW_LENGTH] + "…"


def literal_preview(prompt_id: str, content: bytes) -> str | None:
    """A long text's preview read off the start of its canonical literal block, or None when it is not one.

    ``prompt.yaml`` is ``id: <id>`` then ``body: |`` and the text's lines indented by two spaces
    (canonical YAML writes a multi-line text so, and falls back to quotes where a literal block could
    not hold it exactly). Reading only the first lines of it halves the previews of a 10,000-version
    list; anything else (a short text, an indentation indicator, quotes) is parsed whole.
    """
    header = f"id: {prompt_id}\nbody: |".encode()
    if not content.startswith(header):
        return None
    chomping, _, rest = content[len(header):].partition(b"\n")
    if chomping not in (b"", b"-", b"+"):
        return None
    lines, size = [], -1
    for line in rest.split(b"\n", PREVIEW_LENGTH + 2)[: PREVIEW_LENGTH + 1]:
        if line.startswith(b"  "):
            lines.append(line[2:])
        elif line.strip(b" "):
            return None  # the block ended (or is not ours) before the preview was whole
        else:
            lines.append(b"")
        size += len(line) + 1
        if size > 4 * PREVIEW_LENGTH + 4:  # enough bytes for PREVIEW_LENGTH characters, however wide
            break
    text = b"\n".join(lines).decode("utf-8", "strict")
    return text[:PREVIEW_LENGTH] + "…" if len(text) > PREVIEW_LENGTH else None


def _summary(ref: str, commit: CommitInfo, current_tree: str | None, text: str | None) -> dict:
    """A version's PromptVersionSnapshot fields, with no preview when ``text`` is None.

    ``current_tree`` is the tree a version of the live text would have.
    """
    subject, body, trailers = split_message(commit.message)
    return dict(
        id=commit.id, version=version_number(commit, ref, trailers), label=subject,
        display_version=trailers.get("Display-Version", [None])[0], title=trailers.get("Title", [None])[0],
        description=body or None, source=trailers.get("Source", [DEFAULT_SOURCE])[0],
        created_at=iso_utc(commit.committer.time), matches_current_prompt=commit.tree == current_tree,
        preview=None if text is None else _preview(text),
    )


# --- finding the prompt and its versions -------------------------------------------------------------


def _org_of(store: GitStore, prompt_id: str, org: str | None, live_only: bool = False) -> str:
    """The org named, or the one whose live tree holds the prompt (or, unless ``live_only``, has versions of it)."""
    require_identifier("prompt id", prompt_id)
    if org is not None:
        require_identifier("org", org)
        return org
    return prompt_org(store, prompt_id, None, live_only)


def prompt_org(store: GitStore, prompt_id: str, among: Collection[str] | None = None, live_only: bool = False) -> str:
    """The one org (of ``among``, when given) whose live tree holds the prompt or, unless ``live_only``, has versions of it."""
    require_identifier("prompt id", prompt_id)

    def has_versions(candidate: str) -> bool:
        return store.refs.read(prompt_ref(candidate, prompt_id)) is not None

    return find_org(store, "prompt", prompt_id, lambda tree: store.trees.lookup(tree, live_prompt_path(prompt_id)) is not None,
                    None if live_only else has_versions, among)


def _prompt_not_found(prompt_id: str, org: str) -> NotFound:
    return NotFound(f"prompt {prompt_id} not found in org {org} (gitsnap org export {org})", title="Prompt not found")


def _version_not_found(prompt_id: str, org: str, number: object, latest: int) -> NotFound:
    known = f"its versions are 1 to {latest}" if latest else "it has no versions yet"
    return NotFound(f"version {number} of prompt {prompt_id} not found in org {org} ({known})", title="Version not found")


def _find_version(store: GitStore, prompt_id: str, org: str, number: int) -> CommitInfo:
    """Version ``number``'s commit: the tip's number minus ``number`` first-parent steps back from the tip."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise InvalidInput(f"version must be a whole number, got {number!r}")
    ref = prompt_ref(org, prompt_id)
    tip = store.refs.read(ref)
    if tip is None:
        if _live_body(store, org, prompt_id) is None:
            raise _prompt_not_found(prompt_id, org)
        raise _version_not_found(prompt_id, org, number, 0)
    history = store.objects.history(tip)
    newest = next(history)
    latest = version_number(newest, ref)
    if not 1 <= number <= latest:
        raise _version_not_found(prompt_id, org, number, latest)
    commit = newest if number == latest else next(islice(history, latest - number - 1, None), None)
    if commit is None or version_number(commit, ref) != number:
        raise RepositoryError(f"{ref}: the versions are not numbered one by one from 1 (version {number} is missing)")
    return commit


def _find(store: GitStore, prompt_id: str, org: str, spec: int | str) -> CommitInfo:
    """Version ``spec``'s commit: a number, ``latest`` or an alias (resolved by ``aliases``, built on this module)."""
    from .aliases import find_version

    return find_version(store, prompt_id, org, spec)


def read_text(file: Source, name: str | None = None) -> str:
    """The UTF-8 text of a file (a path, or a stream such as stdin), exactly as it is."""
    name = source_name(file, name)
    if isinstance(file, (str, os.PathLike)) and not os.path.lexists(file):
        raise NotFound(f"{name}: no such file", title="File not found")
    data = read_source_bytes(file, name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"{name}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})") from None


# --- operations --------------------------------------------------------------------------------------


def create_version(store: GitStore, prompt_id: str, org: str | None = None, text: str | None = None,
                   file: Source | None = None, checkpoint: Checkpoint = Checkpoint()) -> PromptVersionResult:
    """Snapshot the text (by default the live body) as the next version; a no-op when the tip has that text."""
    checkpoint = checkpoint.checked()
    if text is not None and file is not None:
        raise InvalidInput("give the text with --text or with --file, not both")
    if text is not None and not isinstance(text, str):
        raise InvalidInput(f"text must be a string, got {type(text).__name__}")
    if text is not None and not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise InvalidInput(f"text holds a lone surrogate (U+{ord(text[error.start]):04X}), which is not UTF-8")
    if file is not None:
        text = read_text(file)
    org = _org_of(store, prompt_id, org, live_only=True)
    live = _live_prompt(store, store.objects.read_commit(org_tip(store, org)).tree, prompt_id)
    if live is None:
        raise _prompt_not_found(prompt_id, org)
    text = live["body"] if text is None else text
    ref = prompt_ref(org, prompt_id)
    tree = store.trees.build({PROMPT_FILE: _content(prompt_id, text)})
    current = tree if text == live["body"] else _tree_of(store, prompt_id, live["body"])

    def build(tip: str | None) -> tuple[str | None, tuple[str, bool]]:
        parent = store.objects.read_commit(tip) if tip else None
        if parent is not None and parent.tree == tree:
            return None, (parent.id, True)
        number = version_number(parent, ref) + 1 if parent else 1
        commit = store.write_commit(tree, [tip] if tip else [], checkpoint.message(number, prompt_id, org))
        return commit, (commit, False)

    commit, skipped = store.refs.update(ref, build)
    snapshot = PromptVersionSnapshot(**_summary(ref, store.objects.read_commit(commit), current, text))
    return PromptVersionResult(message="No changes" if skipped else "Version saved", skipped=skipped,
                               version=snapshot.version, version_id=commit, version_snapshot=snapshot,
                               prompt_id=prompt_id, org_id=org)


def list_versions(store: GitStore, prompt_id: str, org: str | None = None, limit: int | None = None,
                  preview: bool = True) -> PromptVersionList:
    """The prompt's versions, newest first (the ``limit`` newest when given).

    Only the commits are read, plus each version's text for its preview unless ``preview`` is false
    (a list of 10,000 versions takes about half the time without).
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidInput(f"limit must be a whole number of at least 1, got {limit!r}")
    org = _org_of(store, prompt_id, org)
    ref = prompt_ref(org, prompt_id)
    tip = store.refs.read(ref)
    body = _live_body(store, org, prompt_id)
    if tip is None and body is None:
        raise _prompt_not_found(prompt_id, org)
    current = _tree_of(store, prompt_id, body)
    # Each stage runs over every version before the next starts: measurably faster than interleaving them.
    commits = list(islice(store.objects.history(tip), min(limit, sys.maxsize) if limit else None))
    previews: list[str | None] = [None] * len(commits)
    if preview:
        contents = [store.trees.read_file(commit.tree, PROMPT_FILE) for commit in commits]
        previews = [(content is not None and literal_preview(prompt_id, content)) or _preview(_text_in(commit, content))
                    for commit, content in zip(commits, contents)]
    versions = [PromptVersionSnapshot(**{**_summary(ref, commit, current, None), "preview": text})
                for commit, text in zip(commits, previews)]
    return PromptVersionList(prompt_id=prompt_id, org_id=org, versions=versions)


def show_version(store: GitStore, prompt_id: str, number: int | str, org: str | None = None) -> PromptVersionDetail:
    """One version's summary and full text (``number`` may be ``latest`` or an alias)."""
    org = _org_of(store, prompt_id, org)
    commit = _find(store, prompt_id, org, number)
    text = _text(store, commit)
    current = _tree_of(store, prompt_id, _live_body(store, org, prompt_id))
    summary = _summary(prompt_ref(org, prompt_id), commit, current, text)
    return PromptVersionDetail(**summary, text=text, prompt_id=prompt_id, org_id=org)


def diff_versions(store: GitStore, prompt_id: str, old: int | str, new: int | str,
                  org: str | None = None) -> PromptVersionDiff:
    """The unified diff from version ``old``'s text to version ``new``'s (either may be ``latest`` or an alias)."""
    org = _org_of(store, prompt_id, org)
    before, after = _find(store, prompt_id, org, old), _find(store, prompt_id, org, new)
    ref = prompt_ref(org, prompt_id)
    old, new = version_number(before, ref), version_number(after, ref)
    diff = unified_diff(_text(store, before), _text(store, after),
                        f"{prompt_id} version {old}", f"{prompt_id} version {new}")
    return PromptVersionDiff(prompt_id=prompt_id, org_id=org, from_version=old, to_version=new,
                             from_version_id=before.id, to_version_id=after.id, identical=before.tree == after.tree,
                             diff=diff)


def unified_diff(old: str, new: str, old_name: str, new_name: str) -> str:
    """difflib's unified diff, with git's marker where a text does not end in a newline."""
    import difflib

    lines = []
    for line in difflib.unified_diff(_lines(old), _lines(new), old_name, new_name):
        lines.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(lines)


def _lines(text: str) -> list[str]:
    """The text's lines split at ``\\n`` only (as git does), each keeping its newline."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def restore_version(store: GitStore, prompt_id: str, number: int | str, org: str | None = None,
                    user_id: str | None = None) -> PromptRestoreResult:
    """Make version ``number``'s text (``latest``'s, an alias's) the live prompt's body in one live commit.

    ``user_id`` (one of the org's users) is the commit's author, as in an import.
    """
    org = _org_of(store, prompt_id, org)
    commit = _find(store, prompt_id, org, number)
    number = version_number(commit, prompt_ref(org, prompt_id))
    text = _text(store, commit)
    author = None
    if user_id is not None:
        require_identifier("user", user_id)
        tree = store.objects.read_commit(org_tip(store, org)).tree
        author = author_identity(store, read_member(store, tree, org, user_id))

    def spec(tree: str) -> dict:
        prompt = _live_prompt(store, tree, prompt_id) or {"id": prompt_id}
        prompt["body"] = text
        return layout.nest({live_prompt_path(prompt_id): yamlio.dump(prompt)})

    trailers = [("Org", org), ("Prompt-Id", prompt_id), ("Version", str(number)), ("Version-Id", commit.id)]
    trailers += [("User", user_id)] if user_id else []
    change = write_live(store, org, spec, format_message(f"Restore prompt {prompt_id} to version {number}",
                                                         trailers=trailers), author)
    return PromptRestoreResult(message="No changes" if change.skipped else "Restored", skipped=change.skipped,
                               commit=change.commit, prompt_id=prompt_id, org_id=org, version=number,
                               version_id=commit.id)
