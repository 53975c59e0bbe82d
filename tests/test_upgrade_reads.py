"""snapshot upgrade reads what changed on both sides only: a 10,000-entity org, 10 changes on each side."""

from __future__ import annotations

import json

from gitsnap import Store
from tests.conftest import git
from tests.upgrading import assert_clean, live

REF, TENANT, USER = "bigref", "bigtenant", "u1"
PER_COLLECTION = 2500  # 4 config collections: 10,000 entities


def ident(collection: str, n: int) -> str:
    return f"{collection[:2]}{n:022x}"


def reference_document() -> dict:
    document = {"org": {"id": REF, "name": "Big reference"},
                "users": [{"id": USER, "name": "U", "email": "u@x.example"}]}
    for collection in ("pipelines", "automations", "templates"):
        document[collection] = [{"id": ident(collection, n), "name": f"{collection} {n}",
                                 "settings": {"delay": n % 60, "channel": "sms"}} for n in range(PER_COLLECTION)]
    document["prompts"] = [{"id": ident("prompts", n), "title": f"Prompt {n}", "body": f"<prompt>Rule {n}.</prompt>"}
                           for n in range(PER_COLLECTION)]
    return document


def change(document: dict, collection: str, numbers: range, edit) -> None:
    for n in numbers:
        edit(document[collection][n])


def test_only_entities_whose_three_blob_ids_differ_are_read(repo):
    with Store(repo) as api:
        reference = reference_document()
        api.import_org(json.dumps(reference).encode())
        base = api.create_snapshot(REF, USER, "Baseline").snapshot.id
        api.apply_snapshot(base, TENANT, "Tenant")
        tenant = {**reference_document(), "org": {"id": TENANT, "name": "Tenant"}, "users": []}
        change(tenant, "automations", range(0, 5), lambda e: e.update(name=e["name"] + " (tenant)"))
        change(tenant, "automations", range(5, 10), lambda e: e["settings"].update(delay=99))
        api.import_org(json.dumps(tenant).encode())
        change(reference, "automations", range(0, 5), lambda e: e["settings"].update(channel="email"))  # the same 5
        change(reference, "prompts", range(0, 5), lambda e: e.update(body=e["body"] + "\nMore."))
        api.import_org(json.dumps(reference).encode())
        new = api.create_snapshot(REF, USER, "Next").snapshot.id

    store = Store(repo)
    read = []
    real = store.git.objects.read_blob
    store.git.objects.read_blob = lambda sha: read.append(sha) or real(sha)
    org, = store.upgrade_snapshot(new, to_orgs=[TENANT]).orgs
    store.git.objects.read_blob = real
    store.close()

    both = [f"automations/{ident('automations', n)}.yaml" for n in range(5)]
    expected = [git(repo, "rev-parse", f"{rev}:{path}").strip() for path in both
                for rev in (f"snapshots/{REF}/{base}", f"{live(TENANT)}^", f"snapshots/{REF}/{new}")]
    assert sorted(read) == sorted([*expected, git(repo, "rev-parse", f"{live(TENANT)}:org.yaml").strip()])  # + its name
    assert org.status == "upgraded"
    assert {name: (s.merged, s.taken) for name, s in org.summary.items() if s.merged or s.taken} == \
        {"automations": (5, 0), "prompts": (0, 5)}
    changed = git(repo, "diff", "--name-only", f"{live(TENANT)}^", live(TENANT)).split()
    assert sorted(changed) == sorted([*both, *(f"prompts/{ident('prompts', n)}.yaml" for n in range(5))])
    merged = git(repo, "show", f"{live(TENANT)}:{both[0]}")
    assert "name: automations 0 (tenant)\n" in merged and "channel: email\n" in merged
    assert_clean(repo)
