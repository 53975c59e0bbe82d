"""The result classes: keyword fields checked by name, JSON under the platform's names, and time stamps."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitsnap.merge import MergeConflict
from gitsnap.models import (
    Counts,
    ImportResult,
    PromptVersionResult,
    PromptVersionSnapshot,
    RefChange,
    TreeChanges,
    iso_utc,
    json_keys,
)


def reference_iso(seconds: int) -> str:
    moment = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@given(st.integers(min_value=0, max_value=253402300799))
def test_a_whole_second_is_shown_as_datetime_shows_it(seconds):
    assert iso_utc(seconds) == reference_iso(seconds)


def test_times_out_of_range_show_the_nearest_end_and_fractions_their_milliseconds():
    assert iso_utc(253402300800) == "9999-12-31T23:59:59.999Z"
    assert iso_utc(-10**30) == "0001-01-01T00:00:00.000Z"
    assert iso_utc(1.25) == "1970-01-01T00:00:01.250Z"


def test_a_result_takes_its_fields_by_name_and_refuses_unknown_or_missing_ones():
    assert Counts(pipelines=2) == Counts(pipelines=2, automations=0, prompts=0, templates=0)
    assert Counts(pipelines=2) != Counts(pipelines=3)
    with pytest.raises(TypeError, match="no field bogus"):
        Counts(bogus=1)
    with pytest.raises(TypeError, match="missing field"):
        RefChange(ref="r")


def test_default_lists_are_not_shared_between_results():
    one, two = (ImportResult(message="m", skipped=False, org_id="o", org_name="n", commit="c", tree="t",
                             files=TreeChanges(), counts=Counts()) for _ in range(2))
    one.redacted.append("x")
    assert two.redacted == []


def test_the_json_document_renames_omits_and_hides_as_declared():
    snapshot = PromptVersionSnapshot(id="v1", version=1, label="L", display_version=None, title=None,
                                     description=None, source="manual_save", created_at="t",
                                     matches_current_prompt=True, preview=None)
    result = PromptVersionResult(message="m", skipped=False, version=1, version_id="v1", version_snapshot=snapshot,
                                 prompt_id="p", org_id="o")
    document = result.to_json()
    assert list(document) == ["message", "skipped", "version", "versionId", "versionSnapshot"]  # hidden: ids
    assert document["versionSnapshot"]["_id"] == "v1" and "aliases" not in document["versionSnapshot"]
    assert "aliases" in snapshot.replace(aliases=["production"]).to_json()
    assert json_keys(PromptVersionResult) == set(document)
    assert RefChange(ref="r", old=None, new="n").to_json() == {"ref": "r", "old": None, "new": "n"}


def test_a_result_may_shape_its_own_json():
    conflict = MergeConflict(collection="pipelines", id="p1", field="name", ours="A", theirs="B")
    assert conflict.to_json() == {"collection": "pipelines", "id": "p1", "field": "name",
                                  "path": "pipelines/p1/name", "ours": "A", "theirs": "B"}
