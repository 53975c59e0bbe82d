"""The three-way merge engine of ``snapshot upgrade``: values, id lists, entities, resolve paths, handles."""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitsnap.errors import InvalidInput
from gitsnap.merge import (
    ABSENT,
    BadResolution,
    Config,
    Merged,
    MergeSummary,
    merge_collection,
    merge_config,
    merge_values,
)
from gitsnap.snapshot_diff import field_changes

# --- helpers -----------------------------------------------------------------------------------------


def canon(value) -> str:
    """Exact JSON text (1, 1.0 and true differ; key order does not), or ABSENT."""
    return "ABSENT" if value is ABSENT else json.dumps(value, sort_keys=True)


def same(a, b) -> bool:
    return canon(a) == canon(b)


def merged_only(base, ours, theirs, **options):
    """The merged value, asserting the merge had no conflict."""
    value, conflicts = merge_values(base, ours, theirs, **options)
    assert conflicts == []
    return value


def sides(conflict) -> tuple:
    return conflict.field, canon(conflict.base), canon(conflict.ours), canon(conflict.theirs)


def swapped(conflict) -> tuple:
    return conflict.field, canon(conflict.base), canon(conflict.theirs), canon(conflict.ours)


def doc(entity_id: str, **fields) -> dict:
    return {"id": entity_id, **fields}


def collection(*docs: dict) -> dict:
    return {d["id"]: d for d in docs}


def json_of(conflicts) -> list[dict]:
    return [conflict.to_json() for conflict in conflicts]


# --- values: one side, both sides, conflicts ---------------------------------------------------------


def test_a_change_on_one_side_is_taken():
    assert merged_only({"a": 1, "b": 1}, {"a": 2, "b": 1}, {"a": 1, "b": 1}) == {"a": 2, "b": 1}
    assert merged_only({"a": 1, "b": 1}, {"a": 1, "b": 1}, {"a": 1, "b": 3}) == {"a": 1, "b": 3}


def test_the_same_change_on_both_sides_is_taken_once():
    assert merged_only({"a": 1}, {"a": 2}, {"a": 2}) == {"a": 2}


def test_changes_to_different_fields_of_a_mapping_are_both_taken():
    base = {"settings": {"delay_minutes": 5, "retries": 1}}
    ours = {"settings": {"delay_minutes": 10, "retries": 1}}
    theirs = {"settings": {"delay_minutes": 5, "retries": 3, "channel": "sms"}}
    assert merged_only(base, ours, theirs) == {"settings": {"delay_minutes": 10, "retries": 3, "channel": "sms"}}


def test_different_changes_to_one_field_are_a_conflict_at_its_dotted_path():
    base = {"settings": {"delay_minutes": 5}}
    _, conflicts = merge_values(base, {"settings": {"delay_minutes": 10}}, {"settings": {"delay_minutes": 15}})
    assert [sides(c) for c in conflicts] == [("settings.delay_minutes", "5", "10", "15")]


def test_a_delete_against_a_change_is_a_conflict():
    _, conflicts = merge_values({"a": 1, "b": 1}, {"b": 1}, {"a": 2, "b": 1})
    assert [sides(c) for c in conflicts] == [("a", "1", "ABSENT", "2")]


def test_a_delete_on_one_side_against_no_change_deletes():
    assert merged_only({"a": 1, "b": 1}, {"b": 1}, {"a": 1, "b": 1}) == {"b": 1}


def test_null_is_a_value_not_a_delete():
    _, conflicts = merge_values({"a": 1}, {"a": None}, {})
    assert [sides(c) for c in conflicts] == [("a", "1", "null", "ABSENT")]


def test_a_key_that_is_not_plain_is_written_in_json_brackets():
    _, conflicts = merge_values({"a b": {"c.d": 1}}, {"a b": {"c.d": 2}}, {"a b": {"c.d": 3}})
    assert [c.field for c in conflicts] == ['["a b"]["c.d"]']


def test_field_paths_are_the_ones_snapshot_diff_writes():
    base = {"a b": {"c": 1}, "x": {"y-z": 1, "é": 1}}
    ours, theirs = ({"a b": {"c": v}, "x": {"y-z": v, "é": v}} for v in (2, 3))
    _, conflicts = merge_values(base, ours, theirs)
    assert [c.field for c in conflicts] == [change.path for change in field_changes(base, ours)]


def test_one_one_point_zero_and_true_are_different_values():
    assert same(merged_only({"n": 1}, {"n": 1.0}, {"n": 1}), {"n": 1.0})
    assert same(merged_only({"n": 1}, {"n": 1}, {"n": True}), {"n": True})
    _, conflicts = merge_values({"n": 1}, {"n": 1.0}, {"n": True})
    assert [sides(c) for c in conflicts] == [("n", "1", "1.0", "true")]


def test_minus_zero_and_zero_are_different_values():
    assert same(merged_only({"n": 0.0}, {"n": -0.0}, {"n": 0.0}), {"n": -0.0})  # as their YAML differs


def test_a_string_and_a_number_are_different_values():
    assert same(merged_only({"n": 1}, {"n": "1"}, {"n": 1}), {"n": "1"})


def test_an_unresolved_conflict_leaves_the_base_value():
    merged, _ = merge_values({"a": 1, "b": 1}, {"a": 2, "b": 2}, {"a": 3, "b": 1})
    assert merged == {"a": 1, "b": 2}


def test_mappings_added_differently_on_both_sides_conflict_at_each_difference_without_base():
    merged, conflicts = merge_values({}, {"s": {"same": 1, "a": 1, "c": 1}}, {"s": {"same": 1, "b": 2, "c": 2}})
    assert sorted(sides(c) for c in conflicts) == [
        ("s.a", "ABSENT", "1", "ABSENT"), ("s.b", "ABSENT", "ABSENT", "2"), ("s.c", "ABSENT", "1", "2")]
    assert merged == {"s": {"same": 1}}


# --- lists ---------------------------------------------------------------------------------------------


def test_a_list_of_plain_values_is_one_value():
    _, conflicts = merge_values({"tags": ["a"]}, {"tags": ["a", "b"]}, {"tags": ["a", "c"]})
    assert [sides(c) for c in conflicts] == [("tags", '["a"]', '["a", "b"]', '["a", "c"]')]


def test_a_list_of_objects_with_ids_merges_per_id():
    base = {"stages": [doc("s1", name="Intake"), doc("s2", name="Review")]}
    ours = {"stages": [doc("s1", name="Intake!"), doc("s2", name="Review")]}
    theirs = {"stages": [doc("s1", name="Intake"), doc("s2", name="Review", sla=2)]}
    assert merged_only(base, ours, theirs) == {"stages": [doc("s1", name="Intake!"), doc("s2", name="Review", sla=2)]}


def test_a_conflict_inside_a_list_item_is_named_by_the_items_id():
    base = {"stages": [doc("s1", name="A"), doc("s 2", name="B")]}
    _, conflicts = merge_values(base, {"stages": [doc("s1", name="A"), doc("s 2", name="X")]},
                                {"stages": [doc("s1", name="A"), doc("s 2", name="Y")]})
    assert [c.field for c in conflicts] == ['stages[id="s 2"].name']


def test_an_item_deleted_on_one_side_and_changed_on_the_other_is_a_conflict_at_the_item():
    base = {"stages": [doc("s1"), doc("s2", name="B")]}
    _, conflicts = merge_values(base, {"stages": [doc("s1")]}, {"stages": [doc("s1"), doc("s2", name="C")]})
    assert [(c.field, c.ours) for c in conflicts] == [('stages[id="s2"]', ABSENT)]


def test_items_each_side_added_keep_their_place_among_the_items_around_them():
    base = [doc("a"), doc("b")]
    ours = [doc("a"), doc("o1"), doc("b")]
    theirs = [doc("t1"), doc("a"), doc("b"), doc("t2")]
    assert [item["id"] for item in merged_only(base, ours, theirs)] == ["t1", "a", "o1", "b", "t2"]


def test_runs_both_sides_added_at_one_place_stay_whole_and_go_by_position_then_id():
    base = [doc("a")]
    ours = [doc("a"), doc("z"), doc("c")]
    theirs = [doc("a"), doc("m"), doc("b")]
    expected = ["a", "m", "b", "z", "c"]
    assert [item["id"] for item in merged_only(base, ours, theirs)] == expected
    assert [item["id"] for item in merged_only(base, theirs, ours)] == expected


def test_a_reorder_on_one_side_is_taken_with_the_other_sides_edits():
    base = [doc("a", v=1), doc("b"), doc("c")]
    ours = [doc("c"), doc("a", v=1), doc("b")]
    theirs = [doc("a", v=2), doc("b"), doc("c")]
    assert merged_only(base, ours, theirs) == [doc("c"), doc("a", v=2), doc("b")]


def test_reorders_on_both_sides_make_the_list_one_value():
    base = [doc("a"), doc("b"), doc("c")]
    ours, theirs = [doc("b"), doc("a"), doc("c")], [doc("a"), doc("c"), doc("b")]
    _, conflicts = merge_values({"l": base}, {"l": ours}, {"l": theirs})
    assert [c.field for c in conflicts] == ["l"]


def test_reorders_of_different_items_on_both_sides_are_both_taken():
    base = [doc("a"), doc("b"), doc("c"), doc("d")]
    ours = [doc("b"), doc("a"), doc("c"), doc("d")]
    theirs = [doc("a"), doc("b"), doc("d"), doc("c")]
    assert [item["id"] for item in merged_only(base, ours, theirs)] == ["b", "a", "d", "c"]


def test_an_item_both_sides_added_keeps_the_order_both_give_it():
    base = [doc("x"), doc("f")]
    ours = [doc("x"), doc("f"), doc("y")]
    theirs = [doc("f"), doc("x"), doc("y")]
    assert [item["id"] for item in merged_only(base, ours, theirs)] == ["f", "x", "y"]


def test_an_item_both_sides_added_at_different_places_makes_the_list_one_value():
    base = [doc("a"), doc("b")]
    _, conflicts = merge_values({"l": base}, {"l": [doc("n"), *base]}, {"l": [*base, doc("n")]})
    assert [c.field for c in conflicts] == ["l"]


def test_a_list_that_falls_back_to_one_value_reports_no_item_conflicts():
    base = [doc("a", v=1), doc("b"), doc("c")]
    ours = [doc("b"), doc("a", v=2), doc("c")]
    theirs = [doc("a", v=3), doc("c"), doc("b")]
    _, conflicts = merge_values({"l": base}, {"l": ours}, {"l": theirs})
    assert [c.field for c in conflicts] == ["l"]


def test_answering_a_conflict_in_a_list_never_turns_up_other_conflicts():
    base = [doc("b", name=1), doc("d"), doc("a"), doc("c")]
    ours, theirs = [doc("a"), doc("c"), doc("d")], [doc("d"), doc("b"), doc("c")]
    _, left_open = merge_values(base, ours, theirs)
    _, answered = merge_values(base, ours, theirs, choose=lambda path: "ours")
    assert [c.field for c in answered] == [c.field for c in left_open] == [""]


def test_duplicate_ids_make_a_list_one_value():
    base = [doc("a"), doc("b")]
    _, conflicts = merge_values({"l": base}, {"l": [*base, doc("c")]}, {"l": [*base, doc("a")]})
    assert [c.field for c in conflicts] == ["l"]


def test_an_item_without_a_string_id_makes_a_list_one_value():
    base = [doc("a"), {"id": 1}]
    _, conflicts = merge_values({"l": base}, {"l": [*base, doc("c")]}, {"l": [*base, doc("d")]})
    assert [c.field for c in conflicts] == ["l"]


# --- entities ------------------------------------------------------------------------------------------


def test_an_entity_added_on_one_side_is_taken():
    merged = merge_collection("pipelines", {}, {}, collection(doc("p1", name="New")))
    assert merged.entities == collection(doc("p1", name="New")) and merged.conflicts == []


def test_an_entity_added_identically_on_both_sides_is_taken_once():
    merged = merge_collection("pipelines", {}, collection(doc("p1", name="N")), collection(doc("p1", name="N")))
    assert merged.entities == collection(doc("p1", name="N")) and merged.conflicts == []


def test_an_entity_added_differently_on_both_sides_conflicts_per_differing_field_without_base():
    merged = merge_collection("pipelines", {}, collection(doc("p1", name="N", a=1)), collection(doc("p1", name="M")))
    assert sorted(sides(c) for c in merged.conflicts) == [
        ("a", "ABSENT", "1", "ABSENT"), ("name", "ABSENT", '"N"', '"M"')]
    assert merged.entities == collection(doc("p1"))


def test_an_entity_deleted_on_one_side_and_unchanged_on_the_other_is_deleted():
    base = collection(doc("p1"), doc("p2"))
    assert merge_collection("pipelines", base, collection(doc("p2")), base).entities == collection(doc("p2"))


def test_an_entity_deleted_on_one_side_and_changed_on_the_other_is_a_whole_entity_conflict():
    merged = merge_collection("pipelines", collection(doc("p1", a=1)), {}, collection(doc("p1", a=2)))
    assert json_of(merged.conflicts) == [{"collection": "pipelines", "id": "p1", "field": "", "path": "pipelines/p1",
                                          "base": doc("p1", a=1), "theirs": doc("p1", a=2)}]


def test_an_entity_deleted_on_both_sides_is_deleted():
    assert merge_collection("pipelines", collection(doc("p1")), {}, {}).entities == {}


# --- conflicts as JSON, resolve paths, strategy ----------------------------------------------------------


def test_an_absent_side_is_an_omitted_key_and_null_is_kept():
    merged = merge_collection("prompts", collection(doc("q", title=None)), collection(doc("q")),
                              collection(doc("q", title="T")))
    assert json_of(merged.conflicts) == [{"collection": "prompts", "id": "q", "field": "title",
                                          "path": "prompts/q/title", "base": None, "theirs": "T"}]


def test_a_field_resolve_path_takes_the_chosen_side():
    base, ours, theirs = (collection(doc("p", a=v, b=v)) for v in (1, 2, 3))
    answers = {"pipelines/p/a": "theirs", "pipelines/p/b": "ours"}
    merged = merge_collection("pipelines", base, ours, theirs, resolve=answers)
    assert merged.entities == collection(doc("p", a=3, b=2)) and merged.conflicts == []


def test_resolving_with_base_takes_the_base_value_and_an_absent_base_removes_the_field():
    base = collection(doc("p", a=1))
    merged = merge_collection("pipelines", base, collection(doc("p", a=2, n=1)), collection(doc("p", a=3, n=2)),
                              strategy=None, resolve={"pipelines/p/a": "base", "pipelines/p/n": "base"})
    assert merged.entities == collection(doc("p", a=1))


def test_an_entity_resolve_path_answers_every_conflict_of_the_entity():
    base, ours, theirs = (collection(doc("p", a=v, b=v)) for v in (1, 2, 3))
    merged = merge_collection("pipelines", base, ours, theirs, resolve={"pipelines/p": "theirs"})
    assert merged.entities == theirs and merged.conflicts == []


def test_an_entity_resolve_path_answers_a_whole_entity_conflict():
    merged = merge_collection("pipelines", collection(doc("p1", a=1)), {}, collection(doc("p1", a=2)),
                              resolve={"pipelines/p1": "ours"})
    assert merged.entities == {} and [c.resolution for c in merged.resolved] == ["ours"]


def test_a_field_resolve_path_wins_over_its_entity_path():
    base, ours, theirs = (collection(doc("p", a=v, b=v)) for v in (1, 2, 3))
    answers = {"pipelines/p": "theirs", "pipelines/p/a": "ours"}
    merged = merge_collection("pipelines", base, ours, theirs, resolve=answers)
    assert merged.entities == collection(doc("p", a=2, b=3))


def test_the_strategy_answers_the_conflicts_no_path_answered():
    base, ours, theirs = (collection(doc("p", a=v, b=v)) for v in (1, 2, 3))
    merged = merge_collection("pipelines", base, ours, theirs, resolve={"pipelines/p/a": "base"}, strategy="theirs")
    assert merged.entities == collection(doc("p", a=1, b=3))


def test_answered_conflicts_are_reported_with_their_choice():
    base, ours, theirs = (collection(doc("p", a=v, b=v)) for v in (1, 2, 3))
    merged = merge_collection("pipelines", base, ours, theirs, resolve={"pipelines/p/a": "base"}, strategy="ours")
    assert merged.conflicts == []
    assert [(c.path, c.resolution) for c in merged.resolved] == [("pipelines/p/a", "base"), ("pipelines/p/b", "ours")]
    assert json_of(merged.resolved)[0]["resolution"] == "base"


def test_conflict_records_answer_themselves_as_resolve_paths():
    base = collection(doc("p", s={"x y": 1}, l=[doc("i", v=1)]), doc("q", a=1))
    ours = collection(doc("p", s={"x y": 2}, l=[doc("i", v=2)]))
    theirs = collection(doc("p", s={"x y": 3}, l=[doc("i", v=3)]), doc("q", a=2))
    records = json_of(merge_collection("pipelines", base, ours, theirs).conflicts)
    answers = {record["path"]: "theirs" for record in records}
    assert merge_collection("pipelines", base, ours, theirs, resolve=answers).entities == theirs


def test_a_resolve_path_that_matches_no_conflict_is_an_error_naming_it():
    base, ours, theirs = (collection(doc("p", a=v)) for v in (1, 2, 3))
    with pytest.raises(BadResolution, match=r"'pipelines/p/b'.*pipelines/p/a") as raised:
        merge_collection("pipelines", base, ours, theirs, resolve={"pipelines/p/a": "ours", "pipelines/p/b": "ours"})
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, InvalidInput)


def test_a_choice_other_than_ours_theirs_or_base_is_an_error():
    with pytest.raises(BadResolution, match="pipelines/p/a=mine"):
        merge_collection("pipelines", {}, {}, {}, resolve={"pipelines/p/a": "mine"})
    with pytest.raises(BadResolution, match="'base'"):
        merge_collection("pipelines", {}, {}, {}, strategy="base")


# --- configs: handles decide, documents merge only where both sides changed --------------------------------


class Blobs:
    """A handle -> document store that counts loads, standing in for the git object store."""

    def __init__(self):
        self.docs: dict[str, dict] = {}
        self.loaded: list[str] = []

    def add(self, document: dict) -> str:
        handle = "blob:" + canon(document)
        self.docs[handle] = document
        return handle

    def load(self, handle: str) -> dict:
        self.loaded.append(handle)
        return self.docs[handle]

    def config(self, collections: dict[str, dict[str, dict]]) -> Config:
        return Config({name: {i: self.add(d) for i, d in docs.items()} for name, docs in collections.items()},
                      self.load)


def test_an_entity_changed_on_one_side_takes_that_sides_handle_without_loading():
    blobs = Blobs()
    base = blobs.config({"pipelines": collection(doc("p", a=1), doc("q", a=1))})
    ours = blobs.config({"pipelines": collection(doc("p", a=2), doc("q", a=1))})
    theirs = blobs.config({"pipelines": collection(doc("p", a=1), doc("q", a=3))})
    result = merge_config(base, ours, theirs)
    assert result.collections == {"pipelines": {"p": ours.collections["pipelines"]["p"],
                                                "q": theirs.collections["pipelines"]["q"]}}
    assert blobs.loaded == []


def test_an_entity_changed_on_both_sides_is_loaded_and_merged_into_a_new_document():
    blobs = Blobs()
    base, ours, theirs = (blobs.config({"prompts": collection(doc("q", **fields))})
                          for fields in ({"a": 1, "b": 1}, {"a": 2, "b": 1}, {"a": 1, "b": 3}))
    result = merge_config(base, ours, theirs)
    assert result.collections == {"prompts": {"q": Merged(doc("q", a=2, b=3))}}
    assert sorted(blobs.loaded) == sorted(config.collections["prompts"]["q"] for config in (base, ours, theirs))


def test_a_merge_that_gives_back_one_sides_document_reuses_its_handle():
    blobs = Blobs()
    base, ours, theirs = (blobs.config({"prompts": collection(doc("q", a=v))}) for v in (1, 2, 3))
    result = merge_config(base, ours, theirs, strategy="theirs")
    assert result.collections["prompts"]["q"] == theirs.collections["prompts"]["q"]


def test_the_summary_counts_what_the_merge_does_to_ours():
    blobs = Blobs()
    base = blobs.config({"pipelines": collection(doc("kept"), doc("taken"), doc("merged", a=1, b=1),
                                                 doc("deleted"), doc("open", a=1))})
    ours = blobs.config({"pipelines": collection(doc("kept", a=9), doc("taken"), doc("merged", a=2, b=1),
                                                 doc("deleted"), doc("open", a=2))})
    theirs = blobs.config({"pipelines": collection(doc("kept"), doc("taken", a=1), doc("merged", a=1, b=2),
                                                   doc("added"), doc("open", a=3))})
    result = merge_config(base, ours, theirs)
    assert result.summary == {"pipelines": MergeSummary(kept=1, taken=1, merged=2, added=1, deleted=1, conflicts=1)}
    assert not result.clean and [c.path for c in result.conflicts] == ["pipelines/open/a"]


def test_a_collection_one_side_lacks_merges_as_empty():
    blobs = Blobs()
    base = blobs.config({"templates": collection(doc("t"))})
    result = merge_config(base, blobs.config({}), base)
    assert result.collections == {"templates": {}} and result.summary["templates"].deleted == 0


def test_resolve_paths_are_checked_against_every_collection():
    blobs = Blobs()
    base, ours, theirs = (blobs.config({"pipelines": collection(doc("p", a=v)), "prompts": {}}) for v in (1, 2, 3))
    assert merge_config(base, ours, theirs, resolve={"pipelines/p/a": "ours"}).clean
    with pytest.raises(BadResolution, match="prompts/p/a"):
        merge_config(base, ours, theirs, resolve={"prompts/p/a": "ours"})


def ten_thousand_entities(blobs: Blobs) -> dict[str, dict[str, dict]]:
    return {name: collection(*(doc(f"{name[:3]}{i:05d}", name=f"entity {i}", settings={"n": i}) for i in range(2500)))
            for name in ("pipelines", "automations", "prompts", "templates")}


def changed(collections, edits: dict[tuple[str, str], dict]) -> dict[str, dict[str, dict]]:
    out = {name: dict(docs) for name, docs in collections.items()}
    for (name, entity_id), fields in edits.items():
        out[name][entity_id] = {**out[name][entity_id], **fields}
    return out


def test_ten_changes_per_side_on_different_entities_of_ten_thousand_load_nothing():
    blobs = Blobs()
    org = ten_thousand_entities(blobs)
    ours_edits = {("pipelines", f"pip{i:05d}"): {"name": "tenant"} for i in range(10)}
    theirs_edits = {("prompts", f"pro{i:05d}"): {"body": "new"} for i in range(10)}
    base, ours, theirs = (blobs.config(changed(org, edits)) for edits in ({}, ours_edits, theirs_edits))
    result = merge_config(base, ours, theirs)
    assert blobs.loaded == [] and result.clean
    assert sum(s.taken for s in result.summary.values()) == 10 and sum(s.kept for s in result.summary.values()) == 9990
    assert result.collections["prompts"]["pro00003"] == theirs.collections["prompts"]["pro00003"]


def test_only_entities_changed_on_both_sides_are_loaded():
    blobs = Blobs()
    org = ten_thousand_entities(blobs)
    both = [("automations", "aut00042"), ("templates", "tem02499")]
    ours_edits = {**{("pipelines", f"pip{i:05d}"): {"name": "tenant"} for i in range(8)},
                  **{key: {"name": "tenant"} for key in both}}
    theirs_edits = {**{("prompts", f"pro{i:05d}"): {"body": "new"} for i in range(8)},
                    **{key: {"settings": {"n": -1}} for key in both}}
    base, ours, theirs = (blobs.config(changed(org, edits)) for edits in ({}, ours_edits, theirs_edits))
    result = merge_config(base, ours, theirs)
    expected = {config.collections[name][entity_id] for name, entity_id in both for config in (base, ours, theirs)}
    assert len(blobs.loaded) == 6 and set(blobs.loaded) == expected
    assert result.collections["templates"]["tem02499"] == Merged(doc("tem02499", name="tenant", settings={"n": -1}))


def test_the_merge_engine_imports_only_the_standard_library_pydantic_and_the_models():
    tree = ast.parse(Path(__file__).resolve().parent.parent.joinpath("gitsnap", "merge.py").read_text())
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    foreign = {m for m in modules if m.split(".")[0] not in sys.stdlib_module_names}
    assert foreign <= {"pydantic", "errors", "models"}  # no dulwich, no git layer, no click, no I/O


# --- properties ------------------------------------------------------------------------------------------

IDS = ["a", "b", "c", "d", "e"]
KEYS = ["id", "name", "n", "x y", "s"]
LOOKALIKES = [1, 1.0, True, "1", 0, 0.0, -0.0, False, None, ""]  # equal in Python, or nearly: all differ in JSON
scalars = st.sampled_from([*LOOKALIKES, 2, 2.5, "a", "b"])


def id_lists(children):
    items = st.builds(lambda i, fields: {**fields, "id": i}, st.sampled_from(IDS),
                      st.dictionaries(st.sampled_from(KEYS[1:]), children, max_size=2))
    return st.lists(items, max_size=4, unique_by=lambda item: item["id"])


json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(KEYS), children, max_size=4)
    | id_lists(children),
    max_leaves=12)


def is_id_list(value) -> bool:
    ids = [item.get("id") if isinstance(item, dict) else None for item in value] if isinstance(value, list) else [None]
    return all(isinstance(i, str) for i in ids) and len(set(ids)) == len(ids)


@st.composite
def edited(draw, value):
    """``value`` with random edits: kept, replaced, or changed inside (keys, id-list items, their order)."""
    action = draw(st.sampled_from(["keep", "keep", "replace", "inside", "inside", "inside"]))
    if action == "keep":
        return value
    if action == "inside" and value in LOOKALIKES:
        return draw(st.sampled_from(LOOKALIKES))
    if action == "replace" or not isinstance(value, (dict, list)):
        return draw(json_values)
    if isinstance(value, dict):
        out = {key: draw(edited(child)) for key, child in value.items() if draw(st.booleans()) or key == "id"}
        return {**draw(st.dictionaries(st.sampled_from(KEYS[1:]), json_values, max_size=2)), **out}
    return draw(edited_ids(value)) if is_id_list(value) else draw(json_values)


@st.composite
def edited_ids(draw, items):
    """An id list with items edited, dropped, added (anywhere) and sometimes two of them swapped."""
    items = [draw(edited_item(item)) for item in items if draw(st.integers(0, 3))]
    for new in draw(id_lists(json_values)):
        if new["id"] not in {item["id"] for item in items}:
            items.insert(draw(st.integers(0, len(items))), new)
    if len(items) > 1 and draw(st.booleans()):
        i, j = draw(st.lists(st.integers(0, len(items) - 1), min_size=2, max_size=2, unique=True))
        items[i], items[j] = items[j], items[i]
    return items


@st.composite
def edited_item(draw, item):
    fields = draw(edited({key: value for key, value in item.items() if key != "id"}))
    return {**(fields if isinstance(fields, dict) else {}), "id": item["id"]}


@st.composite
def three_ways(draw):
    """(base, ours, theirs): two edits of one value, sometimes of an absent one."""
    kind = draw(st.sampled_from(["value", "mapping", "mapping", "id list", "id list", "absent"]))
    base = {"value": json_values, "mapping": st.dictionaries(st.sampled_from(KEYS), json_values, max_size=4),
            "id list": id_lists(json_values), "absent": st.just(ABSENT)}[kind]
    base = draw(base)
    start = draw(json_values) if base is ABSENT else base
    return base, draw(edited(start)), draw(edited(start))


@st.composite
def entity_sets(draw):
    """(base, ours, theirs) collections of entities: kept, edited, deleted or added on each side."""
    base = {i: doc(i, **draw(st.dictionaries(st.sampled_from(KEYS[1:]), json_values, max_size=3)))
            for i in draw(st.sets(st.sampled_from(IDS)))}

    def side():
        out = {i: draw(edited_item(d)) for i, d in base.items() if draw(st.integers(0, 3))}
        for i in draw(st.sets(st.sampled_from(IDS))) - out.keys():
            out[i] = draw(edited_item(base.get(i, doc(i))))
        return out

    return base, side(), side()


def flatten(value, path: str = "") -> dict[str, str]:
    """Every node of a value by its merge path: mappings by key, id lists by id, anything else whole."""
    if value is ABSENT:
        return {}
    if isinstance(value, dict):
        nodes = {path: "{}"}
        for key, child in value.items():
            plain = re.fullmatch(r"[A-Za-z0-9_-]+", key)
            nodes |= flatten(child, (f"{path}.{key}" if path else key) if plain else f"{path}[{json.dumps(key)}]")
        return nodes
    if isinstance(value, list) and is_id_list(value):
        nodes = {path: "[ids]"}
        for item in value:
            nodes |= flatten(item, f"{path}[id={json.dumps(item['id'])}]")
        return nodes
    return {path: canon(value)}


def under(nodes: dict[str, str], path: str) -> dict[str, str]:
    return {p: v for p, v in nodes.items() if not path or p == path or p.startswith((path + ".", path + "["))}


def outside(nodes: dict[str, str], paths: list[str]) -> dict[str, str]:
    return {p: v for p, v in nodes.items() if not any(under({p: v}, path) for path in paths)}


@settings(max_examples=200, deadline=None)
@given(three_ways())
def test_merging_with_an_unchanged_side_gives_the_other_side(values):
    base, ours, theirs = values
    assert same(merged_only(base, base, theirs), theirs)
    assert same(merged_only(base, ours, base), ours)


@settings(max_examples=200, deadline=None)
@given(three_ways())
def test_merging_a_side_with_itself_gives_it_without_conflicts(values):
    base, ours, _ = values
    assert same(merged_only(base, ours, ours), ours)


@settings(max_examples=200, deadline=None)
@given(three_ways())
def test_swapping_ours_and_theirs_swaps_them_in_the_conflicts_and_nothing_else(values):
    base, ours, theirs = values
    merged, conflicts = merge_values(base, ours, theirs)
    merged_swapped, conflicts_swapped = merge_values(base, theirs, ours)
    assert same(merged, merged_swapped)
    assert sorted(swapped(c) for c in conflicts) == sorted(sides(c) for c in conflicts_swapped)


@settings(max_examples=200, deadline=None)
@given(three_ways())
def test_each_conflict_holds_what_each_side_has_at_its_path(values):
    base, ours, theirs = values
    _, conflicts = merge_values(base, ours, theirs)
    for conflict in conflicts:
        for side, held in ((base, conflict.base), (ours, conflict.ours), (theirs, conflict.theirs)):
            assert under(flatten(side), conflict.field) == flatten(held, conflict.field)


@settings(max_examples=200, deadline=None)
@given(three_ways())
def test_resolving_every_conflict_with_ours_takes_ours_at_those_paths_and_changes_nothing_else(values):
    base, ours, theirs = values
    merged, conflicts = merge_values(base, ours, theirs)
    resolved, answered = merge_values(base, ours, theirs, choose=lambda path: "ours")
    assert [(sides(c), c.resolution) for c in answered] == [(sides(c), "ours") for c in conflicts]
    paths = [c.field for c in conflicts]
    assert outside(flatten(resolved), paths) == outside(flatten(merged), paths)
    for conflict in conflicts:
        assert under(flatten(resolved), conflict.field) == flatten(conflict.ours, conflict.field)


@settings(max_examples=200, deadline=None)
@given(st.data(), st.dictionaries(st.sampled_from(KEYS), json_values, max_size=5))
def test_changes_to_disjoint_keys_merge_cleanly_and_both_are_in_the_result(data, base):
    keys = data.draw(st.lists(st.sampled_from(KEYS), unique=True))
    split = data.draw(st.integers(0, len(keys)))
    ours, theirs = dict(base), dict(base)
    for side, mine in ((ours, keys[:split]), (theirs, keys[split:])):
        for key in mine:
            value = data.draw(st.one_of(edited(base[key]) if key in base else json_values, st.just(ABSENT)))
            side.pop(key, None)
            if value is not ABSENT:
                side[key] = value
    expected = {**{k: v for k, v in base.items() if k not in keys}, **{k: ours[k] for k in keys[:split] if k in ours},
                **{k: theirs[k] for k in keys[split:] if k in theirs}}
    assert same(merged_only(base, ours, theirs), expected)


@settings(max_examples=200, deadline=None)
@given(st.data(), entity_sets())
def test_changes_to_different_entities_merge_cleanly_and_both_are_in_the_result(data, sides3):
    base, ours, theirs = sides3
    mine = data.draw(st.sets(st.sampled_from(IDS)))
    ours = {i: d for i, d in ours.items() if i in mine} | {i: d for i, d in base.items() if i not in mine}
    theirs = {i: d for i, d in theirs.items() if i not in mine} | {i: d for i, d in base.items() if i in mine}
    merged = merge_collection("pipelines", base, ours, theirs)
    expected = {i: d for i, d in ours.items() if i in mine} | {i: d for i, d in theirs.items() if i not in mine}
    assert merged.conflicts == [] and canon(merged.entities) == canon(expected)


@settings(max_examples=200, deadline=None)
@given(entity_sets())
def test_the_ours_strategy_takes_ours_at_every_conflict_and_changes_nothing_else(sides3):
    base, ours, theirs = sides3
    left_open = merge_collection("pipelines", base, ours, theirs)
    answered = merge_collection("pipelines", base, ours, theirs, strategy="ours")
    assert answered.conflicts == [] and json_of(answered.resolved) == [
        {**record, "resolution": "ours"} for record in json_of(left_open.conflicts)]
    for entity_id in base.keys() | ours.keys() | theirs.keys():
        before, after = (flatten(m.entities.get(entity_id, ABSENT)) for m in (left_open, answered))
        mine = [c for c in left_open.conflicts if c.id == entity_id]
        assert outside(after, [c.field for c in mine]) == outside(before, [c.field for c in mine])
        for conflict in mine:
            assert under(after, conflict.field) == flatten(conflict.ours, conflict.field)


@settings(max_examples=200, deadline=None)
@given(entity_sets())
def test_answering_each_conflict_by_its_path_equals_the_strategy(sides3):
    base, ours, theirs = sides3
    left_open = merge_collection("pipelines", base, ours, theirs).conflicts
    by_path = merge_collection("pipelines", base, ours, theirs, resolve={c.path: "theirs" for c in left_open})
    by_strategy = merge_collection("pipelines", base, ours, theirs, strategy="theirs")
    assert canon(by_path.entities) == canon(by_strategy.entities)
    assert json_of(by_path.resolved) == json_of(by_strategy.resolved)
    assert by_path.conflicts == [] and len(by_path.resolved) == len(left_open)


@settings(max_examples=200, deadline=None)
@given(entity_sets())
def test_deciding_by_handles_gives_what_merging_every_document_gives_and_loads_only_changes_on_both_sides(sides3):
    blobs = Blobs()
    configs = [blobs.config({"pipelines": side}) for side in sides3]
    result = merge_config(*configs)
    documents = merge_collection("pipelines", *sides3)
    handles = [config.collections["pipelines"] for config in configs]
    by_handles = {i: v.document if isinstance(v, Merged) else blobs.docs[v]
                  for i, v in result.collections["pipelines"].items()}
    assert canon(by_handles) == canon(documents.entities)
    assert json_of(result.conflicts) == json_of(documents.conflicts)
    changed_on_both = {i for i in set().union(*handles)
                       if len({h.get(i, "absent") for h in handles}) == 3}
    assert set(blobs.loaded) <= {h[i] for h in handles for i in changed_on_both if i in h}


@st.composite
def id_list_three_ways(draw):
    base = draw(id_lists(json_values))
    return base, draw(edited_ids(base)), draw(edited_ids(base))


def ahead(ids: list[str], x: str, y: str) -> bool | None:
    return ids.index(x) < ids.index(y) if x in ids and y in ids else None


@settings(max_examples=200, deadline=None)
@given(id_list_three_ways())
def test_a_merged_id_list_keeps_the_order_both_sides_agree_on_or_the_side_that_moved_it(values):
    base, ours, theirs = ([item["id"] for item in side] for side in values)
    merged, conflicts = merge_values(*values)
    if any(conflict.field == "" for conflict in conflicts):
        return  # the orders could not be merged: the list is one value, as the examples show
    result = [item["id"] for item in merged]
    for i, x in enumerate(result):
        for y in result[i + 1:]:
            o, t, b = (ahead(side, x, y) for side in (ours, theirs, base))
            if o is None or t is None or o == t:
                assert False not in (o, t), f"{y} before {x} on a side, not in {result}"
            else:
                assert (o if t == b else t) is True, f"{y} moved before {x} on a side, not in {result}"
