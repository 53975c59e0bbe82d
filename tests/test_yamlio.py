"""The canonical serialiser: exact round trips, stable bytes, literal blocks for multi-line text."""

from __future__ import annotations

import re

import pytest
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


class _ReferenceDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    """PyYAML's own representer configured for the canonical format: what stored blobs were written with."""

    def ignore_aliases(self, data):
        return True


_ReferenceDumper.add_representer(
    str, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style="|" if "\n" in v else None))
_ReferenceDumper.add_representer(
    dict, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", sorted(v.items(), key=yamlio._key_order)))


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_bytes_are_those_of_pyyaml_configured_the_canonical_way(value):
    reference = yaml.dump({"data": value}, Dumper=_ReferenceDumper, allow_unicode=True, default_flow_style=False,
                          sort_keys=False, width=2**31 - 1)
    assert yamlio.dump({"data": value}) == reference.encode()


@pytest.mark.parametrize("text, problem", [
    ("x: !!python/object/apply:os.system ['true']", "python/object"),
    ("x: !!binary aGVsbG8=", "binary"),
    ("x: !!set {a, b}", "set"),
    ("x: !custom 1", "!custom"),
    ("x: .nan", "not a JSON number"),
    ("x: -.inf", "not a JSON number"),
    ("x: 1\nx: 2\n", "duplicate key 'x'"),
    ("1: one", "field names must be strings"),
    ("? [a]\n: b", "field names must be strings"),
    ("base: {a: 1}\nx:\n  <<: {b: 2}\n", "merge keys"),
    ("a: &a [1]\nb: *a\n", "aliases are not allowed"),
])
def test_loading_refuses_what_json_cannot_hold(text, problem):
    with pytest.raises(yaml.YAMLError, match=re.escape(problem)):
        yamlio.load(text)


def test_dates_stay_strings_as_in_json():
    text = "day: 2026-05-15\nat: 2026-05-15T09:00:00Z\n"
    assert yamlio.load(text) == {"day": "2026-05-15", "at": "2026-05-15T09:00:00Z"}
    assert yamlio.load(yamlio.dump(yamlio.load(text))) == yamlio.load(text)
    assert "'2026-05-15'" in yamlio.dump({"day": "2026-05-15"}).decode()  # quoted for YAML 1.1 readers


@pytest.mark.parametrize("text, problem", [
    ('{"a": 1, "a": 2}', "duplicate key 'a'"),
    ('{"a": NaN}', "NaN is not a JSON number"),
    ('{"a": -Infinity}', "-Infinity is not a JSON number"),
])
def test_json_loading_refuses_duplicates_and_non_numbers(text, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        yamlio.load_json(text)


def test_values_json_cannot_hold_are_not_dumped():
    import datetime

    with pytest.raises(yaml.YAMLError, match="date"):
        yamlio.dump({"day": datetime.date(2026, 5, 15)})
