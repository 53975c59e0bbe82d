"""The fast readers prompt version lists use: commits read as dulwich reads them, previews as YAML reads them."""

from __future__ import annotations

import subprocess

from hypothesis import given, settings
from hypothesis import strategies as st

from gitsnap import Store, yamlio
from gitsnap.gitmessage import parse_commit
from gitsnap.prompts import _preview, literal_preview
from tests.conftest import LEASING_PROMPT_ID as PROMPT
from tests.conftest import git

SIGNED = """tree {tree}
parent {parent}
author Ann Author <ann@example.com> 1700000000 +0130
committer Cé Committer <ce@example.com> 1700000001 -0700
gpgsig -----BEGIN PGP SIGNATURE-----
 
 iQEzBAABCAAdFiEE
 -----END PGP SIGNATURE-----

Signed subject

Body line.
"""


def test_history_matches_read_commit_for_git_written_and_signed_commits(repo):
    tree = git(repo, "mktree", input=b"").strip()
    root = git(repo, "commit-tree", tree, "-m", "root").strip()
    signed = git(repo, "hash-object", "-t", "commit", "-w", "--stdin",
                 input=SIGNED.format(tree=tree, parent=root).encode()).strip()
    merge = git(repo, "commit-tree", tree, "-p", signed, "-p", root, "-m", "merge").strip()
    git(repo, "update-ref", "refs/heads/walk", merge)
    objects = Store(repo).git.objects

    walked = list(objects.history(merge))
    assert [c.id for c in walked] == [merge, signed, root]
    assert walked == [objects.read_commit(c.id) for c in walked]
    assert (walked[1].author.tz, walked[1].committer.tz, walked[1].committer.name) == (5400, -25200, "Cé Committer")
    assert walked[1].message == "Signed subject\n\nBody line.\n"
    assert len(walked[0].parents) == 2
    raw = subprocess.run(["git", "--git-dir", str(repo), "cat-file", "commit", signed], capture_output=True).stdout
    assert parse_commit(signed, raw) == walked[1]  # the fast parser itself, not its fallback


def test_history_of_no_tip_is_empty(repo):
    assert list(Store(repo).git.objects.history(None)) == []


@settings(max_examples=400)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_the_preview_read_off_a_literal_block_is_the_parsed_texts(text):
    content = yamlio.dump({"id": PROMPT, "body": text})
    fast = literal_preview(PROMPT, content)
    assert fast is None or fast == _preview(yamlio.load(content)["body"])


def test_a_long_multi_line_text_takes_the_fast_preview():
    text = "<prompt>\n" + "\n".join(f"  rule {n}:  be brief, é" for n in range(40)) + "\n\n</prompt>\n"
    content = yamlio.dump({"id": PROMPT, "body": text})
    assert literal_preview(PROMPT, content) == _preview(text) and text[:120] in literal_preview(PROMPT, content)
