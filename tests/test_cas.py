"""Compare-and-swap, deterministically: races lost on purpose, attempts that run out, locks held and stale."""

from __future__ import annotations

import pytest

from gitsnap import Conflict, Store
from gitsnap.gitrefs import Patience
from tests.conftest import ACME_ID, LEASING_PROMPT_ID, git

LIVE = f"refs/heads/orgs/{ACME_ID}"
PROMPT_REF = f"refs/prompts/{ACME_ID}/{LEASING_PROMPT_ID}"
NO_WAIT = Patience(attempts=200, lock_seconds=2.0, backoff=lambda attempt: 0)


def empty_commit(repo, parent: str, message: str) -> str:
    return git(repo, "commit-tree", f"{parent}^{{tree}}", "-p", parent, "-m", message).strip()


def test_a_lost_race_rebuilds_on_the_new_tip(acme_repo):
    refs = Store(acme_repo).git.refs
    refs.patience = NO_WAIT
    tip = refs.read(LIVE)
    theirs = empty_commit(acme_repo, tip, "another writer")
    builds = []

    def build(current):
        builds.append(current)
        if len(builds) == 1:  # another writer moves the ref between our read and our swap
            assert refs.swap(LIVE, current, theirs)
        return empty_commit(acme_repo, current, "ours"), "done"

    assert refs.update(LIVE, build) == "done"
    assert builds == [tip, theirs]
    assert git(acme_repo, "rev-parse", f"{LIVE}^").strip() == theirs


def test_a_ref_that_keeps_changing_gives_up_after_the_attempts(acme_repo):
    refs = Store(acme_repo).git.refs
    refs.patience = Patience(attempts=3, lock_seconds=2.0, backoff=lambda attempt: 0)
    builds = []

    def build(current):
        builds.append(current)
        assert refs.swap(LIVE, current, empty_commit(acme_repo, current, f"writer {len(builds)}"))
        return empty_commit(acme_repo, current, "never lands"), None

    with pytest.raises(Conflict, match="kept changing under 3 attempts"):
        refs.update(LIVE, build)
    assert len(builds) == 3


def test_a_lock_released_by_its_writer_is_waited_for(acme_repo):
    refs = Store(acme_repo).git.refs
    lock = acme_repo / "refs" / "heads" / "orgs" / f"{ACME_ID}.lock"
    lock.write_text("")
    waits = []

    def backoff(attempt: int) -> float:
        waits.append(attempt)
        lock.unlink()  # the other writer finishes while we back off
        return 0

    refs.patience = Patience(attempts=200, lock_seconds=2.0, backoff=backoff)
    tip = refs.read(LIVE)
    new = empty_commit(acme_repo, tip, "after the lock")
    assert refs.update(LIVE, lambda current: (new, "moved")) == "moved"
    assert waits == [0] and refs.read(LIVE) == new and not lock.exists()


def test_a_stale_lock_is_named_and_left_in_place(acme_repo):
    refs = Store(acme_repo).git.refs
    refs.patience = Patience(attempts=200, lock_seconds=0.0, backoff=lambda attempt: 0)
    lock = acme_repo / "refs" / "heads" / "orgs" / f"{ACME_ID}.lock"
    lock.write_text("")
    tip = refs.read(LIVE)
    with pytest.raises(Conflict, match=f"remove {lock} if no gitsnap or git is running"):
        refs.update(LIVE, lambda current: (empty_commit(acme_repo, current, "x"), None))
    assert lock.exists() and refs.read(LIVE) == tip


def test_a_version_created_meanwhile_is_numbered_before_ours(acme_repo):
    store, other = Store(acme_repo), Store(acme_repo)
    store.create_prompt_version(LEASING_PROMPT_ID, text="one")
    refs = store.git.refs
    real_swap = refs.swap
    raced = []

    def swap(name, old, new):
        if not raced:  # another process saves version 2 just before our swap
            raced.append(other.create_prompt_version(LEASING_PROMPT_ID, text="two").version)
        return real_swap(name, old, new)

    refs.swap = swap
    refs.patience = NO_WAIT
    ours = store.create_prompt_version(LEASING_PROMPT_ID, text="three")
    assert raced == [2] and ours.version == 3
    versions = store.list_prompt_versions(LEASING_PROMPT_ID).versions
    assert [(v.version, v.preview) for v in versions] == [(3, "three"), (2, "two"), (1, "one")]
