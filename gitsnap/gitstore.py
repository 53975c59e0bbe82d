"""A gitsnap repository at the git level: its objects, trees and refs, who is acting, and revisions.

Objects are always written before a ref moves, and a ref only moves by compare-and-swap against
the value read, so a crash or a concurrent writer never leaves a ref on an incomplete commit.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from .errors import Conflict, InvalidInput, NotFound
from .gitmessage import Identity, local_offset, one_line_problem, parse_git_date
from .gitobjects import Objects, write_errors, write_file
from .gitrefs import DryRunRefs, Patience, Refs
from .gittrees import Trees

if TYPE_CHECKING:  # dulwich's config and repository are imported by the commands that use them
    from dulwich.config import ConfigFile, StackedConfig

# gc.auto=0: an automatic gc (dulwich's or git's) would pack refs under concurrent writers.
BARE_CONFIG = b"""[core]
\trepositoryformatversion = 0
\tfilemode = true
\tbare = true
[gc]
\tauto = 0
"""


class GitStore:
    """A bare repository: ``objects``, ``trees`` and ``refs``, plus identity and revision parsing."""

    def __init__(self, path: str | os.PathLike[str], patience: Patience = Patience(), dry_run: bool = False):
        """``dry_run``: new objects stay in memory and ref moves are recorded (``refs.moves()``), never made."""
        self.path = os.fspath(path)
        if not _is_git_dir(self.path):
            if os.path.exists(os.path.join(self.path, ".git")):
                raise InvalidInput(f"{self.path} is a git work tree; gitsnap keeps its data in a bare repository "
                                   f"(gitsnap init --repo {self.path.rstrip('/')}-config.git)")
            raise NotFound(f"{self.path or repr(self.path)} is not a gitsnap repository "
                           f"(create one with: gitsnap init --repo {self.path or 'PATH'})", title="Repository not found")
        self.dry_run = dry_run
        self.objects = Objects(self.path, in_memory=dry_run)
        self.trees = Trees(self.objects)
        self.refs = (DryRunRefs if dry_run else Refs)(self.path, patience)

    def close(self) -> None:
        self.objects.close()

    def scratch(self) -> GitStore:
        """This repository seen through a dry run: what is built in it stays in memory."""
        return GitStore(self.path, self.refs.patience, dry_run=True)

    @classmethod
    def init(cls, path: str | os.PathLike[str]) -> tuple[GitStore, bool]:
        """Create a bare repository at ``path``; (store, False) when one is already there."""
        path = os.fspath(path)
        if not path:
            raise InvalidInput("the repository path is empty; give --repo PATH")
        if _is_git_dir(path):
            return cls(path), False
        if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
            raise InvalidInput(f"{path} exists and is not an empty directory; choose another --repo")
        with write_errors(path):
            os.makedirs(path, exist_ok=True)
            for directory in ("objects/pack", "objects/info", "refs/heads", "refs/tags"):
                os.makedirs(os.path.join(path, directory), exist_ok=True)
            write_file(os.path.join(path, "config"), BARE_CONFIG)
            write_file(os.path.join(path, "HEAD"), b"ref: refs/heads/main\n")  # HEAD last: now it is a repository
        return cls(path), True

    # --- configuration and identity ---

    def config(self) -> ConfigFile:
        """The repository's own git config (re-read each time: another process may change it)."""
        from dulwich.config import ConfigFile

        return ConfigFile.from_path(os.path.join(self.path, "config"))

    def update_config(self, change: Callable[[ConfigFile], bool]) -> bool:
        """Run ``change`` on the config, holding ``config.lock`` from read to write; it returns False to write nothing."""
        from dulwich.config import ConfigFile
        from dulwich.file import FileLocked, GitFile

        path = os.path.join(self.path, "config")
        try:
            with write_errors(self.path), GitFile(path, "wb") as locked:
                config = ConfigFile.from_path(path)
                if not change(config):
                    locked.abort()
                    return False
                config.write_to_file(locked)
        except FileLocked:
            raise Conflict(f"{path} is being changed by another process; try again "
                           f"(remove {path}.lock if no git or gitsnap is running)") from None
        return True

    @cached_property
    def config_stack(self) -> StackedConfig:
        """The repository's config over the user's and the system's, as git reads them."""
        from dulwich.config import StackedConfig

        return StackedConfig([self.config(), *StackedConfig.default_backends()])

    def identity(self, kind: str = "COMMITTER") -> Identity:
        """Who is acting, by git's rules: GIT_<KIND>_NAME/EMAIL/DATE, then repo and global config."""
        where = f"the {kind.lower()} (GIT_{kind}_NAME/EMAIL, or user.name/user.email in git config)"
        for variable in (f"GIT_{kind}_NAME", f"GIT_{kind}_EMAIL", f"GIT_{kind}_DATE"):
            value = os.environ.get(variable)
            if value is not None and (problem := one_line_problem(value)):
                raise InvalidInput(f"{variable} {value!r} {problem}")
        name, email = os.environ.get(f"GIT_{kind}_NAME"), os.environ.get(f"GIT_{kind}_EMAIL")
        if name is None or email is None:  # then git config, then the system's idea of the user
            from dulwich.repo import get_user_identity

            try:
                configured = Identity.parse(get_user_identity(self.config_stack), 0, 0)
            except UnicodeError as error:
                raise InvalidInput(f"{where} is not UTF-8 text") from error
            name, email = configured.name if name is None else name, configured.email if email is None else email
        date = os.environ.get(f"GIT_{kind}_DATE")
        if date:
            seconds, tz = parse_git_date(date, f"GIT_{kind}_DATE")
        else:
            seconds = int(time.time())
            tz = local_offset(seconds)
        return Identity.checked(name, email, seconds, tz, where)

    # --- commits and tags, by the person acting ---

    def write_commit(self, tree: str, parents: list[str], message: str, author: Identity | None = None) -> str:
        """Write a commit whose committer is the person running gitsnap (and its author, unless given)."""
        committer = self.identity("COMMITTER")
        return self.objects.write_commit(tree, parents, message, author or self.identity("AUTHOR"), committer)

    def write_tag(self, target: str, name: str, message: str, tagger: Identity | None = None) -> str:
        """Write an annotated tag on a commit; the tagger is the person running gitsnap unless given."""
        return self.objects.write_tag(target, name, message, tagger or self.identity("COMMITTER"))

    # --- revisions ---

    def resolve_commit(self, revision: str) -> str | None:
        """The commit a git revision names (ref, short ref, id, with ``~n``/``^n`` suffixes), or None."""
        from dulwich.objectspec import parse_commit
        from dulwich.repo import Repo

        match = re.fullmatch(r"(.+?)((?:[~^]\d*)*)", revision, re.ASCII)
        base, suffix = match.groups() if match else (revision, "")
        try:
            with Repo(self.path) as repo:
                sha = parse_commit(repo, base.encode()).id.decode()
        except (KeyError, ValueError, NotImplementedError, UnicodeError):
            return None
        for op, digits in re.findall(r"([~^])(\d*)", suffix, re.ASCII):
            count = int(digits) if digits else 1
            steps = [1] * count if op == "~" else ([count] if count else [])
            for parent_number in steps:
                parents = self.objects.read_commit(sha).parents
                if len(parents) < parent_number:
                    return None
                sha = parents[parent_number - 1]
        return sha


def _is_git_dir(path: str) -> bool:
    """Whether ``path`` is a git directory (a bare repository, or a work tree's ``.git``)."""
    return bool(path) and os.path.isfile(os.path.join(path, "HEAD")) and \
        os.path.isdir(os.path.join(path, "objects")) and os.path.isdir(os.path.join(path, "refs"))
