"""Processes moving one alias at once: with --expect exactly one wins; without, every move is in the history.

The first two tests make the race certain rather than likely: each ``gitsnap`` process stops at its
first compare-and-swap of the alias ref (its move already built on the tip it read) and says so on
stderr; only when both have said so, with the same tip, does the test let them go on together.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gitsnap import Store
from tests.conftest import ACME_ID, LEASING_PROMPT_ID, fsck, git
from tests.test_aliases import PRODUCTION, first_parent_log, version_id

PROMPT = LEASING_PROMPT_ID

# The real CLI, with its first compare-and-swap of an alias ref held until the test writes a line.
PAUSED_CLI = """
import sys
from gitsnap import gitrefs
from gitsnap.cli import main

real_swap = gitrefs.Refs.swap
held = []

def swap(self, name, old, new):
    if name.startswith("refs/prompt-aliases/") and not held:
        held.append(old)
        print(f"built on {old}", file=sys.stderr, flush=True)
        sys.stdin.readline()
    return real_swap(self, name, old, new)

gitrefs.Refs.swap = swap
main(sys.argv[1:])
"""

# Moves one alias ``count`` times through the Python API, to versions 1..3 in turn.
MOVER = """
import sys
from gitsnap import Conflict, Store
repo, writer, count, expect = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "expect"
store = Store(repo)
moved = attempt = 0
while moved < count:
    attempt += 1
    target = (writer + attempt) % 3 + 1
    if not expect:
        result = store.set_prompt_alias("65f9b1c2e8a1d4e001a0b1c4", "production", target, reason=f"w{writer}")
        moved += not result.skipped
        continue
    here = {a.alias: a.version for a in store.list_prompt_aliases("65f9b1c2e8a1d4e001a0b1c4").aliases}["production"]
    if here == target:
        target = target % 3 + 1
    try:
        store.set_prompt_alias("65f9b1c2e8a1d4e001a0b1c4", "production", target, expect=here, reason=f"w{writer}")
        moved += 1
    except Conflict:
        pass  # another writer moved it since we looked: look again
"""


@pytest.fixture
def at_version_1(acme_repo):
    with Store(acme_repo) as store:
        for n in (1, 2, 3):
            store.create_prompt_version(PROMPT, text=f"text {n}")
        store.set_prompt_alias(PROMPT, "production", 1)
    return acme_repo


def race(repo, *commands: list[str]) -> list[tuple[int, str, str]]:
    """Run the commands as paused processes, release them together once all have built; (exit, stdout, stderr)."""
    processes = [subprocess.Popen([sys.executable, "-c", PAUSED_CLI, "--repo", str(repo), *command],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for command in commands]
    built = [process.stderr.readline().decode() for process in processes]
    tip = git(repo, "rev-parse", PRODUCTION).strip()
    assert built == [f"built on {tip}\n"] * len(processes), built  # every move was built on the same tip
    for process in processes:
        process.stdin.write(b"go\n")
        process.stdin.flush()
    results = []
    for process in processes:
        out, err = process.communicate()
        results.append((process.returncode, out.decode(), err.decode()))
    return results


def test_with_expect_exactly_one_of_two_racing_processes_wins_and_the_other_names_where_it_is(at_version_1):
    results = race(at_version_1, ["prompt", "alias", "set", PROMPT, "production", "2", "--expect", "1"],
                   ["prompt", "alias", "set", PROMPT, "production", "3", "--expect", "1"])
    assert sorted(code for code, _, _ in results) == [0, 4], results
    winner = 2 if results[0][0] == 0 else 3
    [loser_error] = [err for code, _, err in results if code == 4]
    assert loser_error == (f"gitsnap: alias production of prompt {PROMPT} in org {ACME_ID} is at version {winner}, "
                           "not at version 1 as expected; nothing was changed\n")
    assert [entry[1:3] for entry in first_parent_log(at_version_1)] == [(str(winner), "1"), ("1", "")]
    fsck(at_version_1)
    assert Store(at_version_1).verify().ok


def test_without_expect_the_loser_rebuilds_on_the_winner_and_both_moves_are_in_the_history(at_version_1):
    results = race(at_version_1, ["prompt", "alias", "set", PROMPT, "production", "2", "--json"],
                   ["prompt", "alias", "set", PROMPT, "production", "3", "--json"])
    assert [code for code, _, _ in results] == [0, 0], results
    documents = [json.loads(out) for _, out, _ in results]
    previous = {document["version"]: document["previousVersion"] for document in documents}
    loser = 2 if previous[2] != 1 else 3  # both were built on version 1: the loser's move was rebuilt
    winner = 5 - loser
    assert previous == {winner: 1, loser: winner}
    assert [entry[1:3] for entry in first_parent_log(at_version_1)] == [(str(loser), str(winner)),
                                                                         (str(winner), "1"), ("1", "")]
    parents = git(at_version_1, "log", "-1", "--format=%P", PRODUCTION).split()
    assert parents[1] == version_id(at_version_1, loser)
    fsck(at_version_1)
    assert Store(at_version_1).verify().ok


@pytest.mark.parametrize("mode", ["expect", "plain"])
def test_many_processes_moving_one_alias_lose_no_move(at_version_1, mode):
    writers, moves = 3, 50
    processes = [subprocess.Popen([sys.executable, "-c", MOVER, str(at_version_1), str(w), str(moves), mode],
                                  stderr=subprocess.PIPE) for w in range(writers)]
    errors = [process.communicate()[1].decode() for process in processes]
    assert [process.returncode for process in processes] == [0] * writers, errors
    log = first_parent_log(at_version_1)
    assert len(log) == writers * moves + 1
    assert sorted(entry[4] for entry in log[:-1]) == sorted(f"w{w}" for w in range(writers) for _ in range(moves))
    for newer, older in zip(log, log[1:]):  # each move starts where the one before it left the alias
        assert newer[2] == older[1]
    fsck(at_version_1)
    assert Store(at_version_1).verify().ok
