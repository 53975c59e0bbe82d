"""The canonical serialiser: exact round trips, stable bytes, literal blocks for multi-line text."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gitsnap import yamlio

TRICKY = ["", " ", "yes", "no", "null", "~", "0x1", "1e3", "08", "-", "- a", "a: b", "#x", "'", '"', "\t",
          "trailing  ", " leading", "\nleading blank", "crlf\r\nline", "tab\tinside", "é — ü ✓ 日本",
          "x" * 5000, "multi\nline\n", "keep\n\n\n", "no newline at end\nx", "\ufeffbom", "\x85nel"]


def roundtrip(value):
    return yamlio.load(yamlio.dump(value))


def test_tricky_strings_round_trip_exactly():
    for value in TRICKY:
        assert roundtrip({"body": value}) == {"body": value}, repr(value)


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_any_string_round_trips(value):
    assert roundtrip({"body": value}) == {"body": value}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["line", "  indented", "\tTab", "trailing ", "", "— ü", "a: b", "- x", "#"]),
                min_size=2).map("\n".join))
def test_multiline_text_round_trips(value):
    assert roundtrip({"body": value}) == {"body": value}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_json_value_round_trips(value):
    assert roundtrip({"data": value}) == {"data": value}


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(min_size=1), st.integers(), max_size=8))
def test_same_data_gives_same_bytes_whatever_the_key_order(mapping):
    reordered = dict(reversed(list(mapping.items())))
    assert yamlio.dump(mapping) == yamlio.dump(reordered)


def test_multiline_prompt_is_a_literal_block():
    text = "<prompt><role>Leasing assistant</role>\n<goal>Book tours.</goal>\n</prompt>\n"
    assert yamlio.dump({"body": text}).decode() == (
        "body: |\n  <prompt><role>Leasing assistant</role>\n  <goal>Book tours.</goal>\n  </prompt>\n"
    )


def test_id_and_name_come_first_then_sorted_keys():
    dumped = yamlio.dump({"zeta": 1, "name": "N", "alpha": 2, "id": "x"}).decode()
    assert dumped.splitlines() == ["id: x", "name: N", "alpha: 2", "zeta: 1"]


def test_shared_nodes_are_written_out_without_anchors():
    shared = {"a": 1}
    dumped = yamlio.dump({"x": shared, "y": shared}).decode()
    assert "&" not in dumped and "*" not in dumped


def test_loading_refuses_python_tags():
    try:
        yamlio.load("x: !!python/object/apply:os.system ['true']")
    except yaml.YAMLError:
        return
    raise AssertionError("a !!python tag was constructed")
