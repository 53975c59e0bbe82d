"""The canonical serialiser: exact round trips, stable bytes, literal blocks for multi-line text."""

from __future__ import annotations

import math
import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gitsnap import sources, yamlio, yamlnodes

TRICKY = ["", " ", "yes", "no", "null", "~", "0x1", "1e3", "08", "-", "- a", "a: b", "#x", "'", '"', "\t",
          "trailing  ", " leading", "\nleading blank", "crlf\r\nline", "tab\tinside", "é — ü ✓ 日本",
          "x" * 5000, "multi\nline\n", "keep\n\n\n", "no newline at end\nx", "\ufeffbom", "\x85nel"]


INT_MAX = 2**63 - 1


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
    st.none() | st.booleans() | st.integers(-INT_MAX, INT_MAX) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_json_value_round_trips(value):
    assert roundtrip({"data": value}) == {"data": value}


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(min_size=1), st.integers(-INT_MAX, INT_MAX), max_size=8))
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
    dict, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", sorted(v.items(), key=yamlnodes._key_order)))


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
    ("x: !!float .nan", "x: '.nan' is not a JSON float (tag !!float)"),
    ("x: !!float -.inf", "x: '-.inf' is not a JSON float (tag !!float)"),
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


# --- plain scalars: a JSON literal or the string they read as --------------------------------------

class _PureLoader(yamlnodes._JSONResolver, yaml.SafeLoader):
    """PyYAML's pure-Python loader with gitsnap's resolver: what ``load`` uses where LibYAML is missing."""


LOADERS = {"libyaml": yamlio.load, "pure": lambda text: yamlnodes._document(_PureLoader(text))}


@pytest.fixture(params=sorted(LOADERS))
def load(request):
    return LOADERS[request.param]


def same(actual, expected) -> bool:
    """Equal with the same types all the way down (True is not 1, 1 is not 1.0, -0.0 is not 0.0)."""
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, float):
        return actual == expected and math.copysign(1, actual) == math.copysign(1, expected)
    if isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(same(actual[k], expected[k]) for k in expected)
    if isinstance(expected, list):
        return len(actual) == len(expected) and all(same(a, e) for a, e in zip(actual, expected))
    return actual == expected


@pytest.mark.parametrize("plain, value", [
    ("null", None), ("true", True), ("false", False), ("", None),
    ("0", 0), ("12", 12), ("-3", -3), ("-0", 0), ("9223372036854775807", 2**63 - 1),
    ("-9223372036854775807", -(2**63 - 1)),
    ("1.5", 1.5), ("-0.0", -0.0), ("0.0", 0.0), ("1.0e+16", 1e16), ("2.5E-3", 0.0025), ("0.0e-400", 0.0),
])
def test_a_plain_json_literal_is_that_literal(load, plain, value):
    assert same(load(f"x: {plain}\n"), {"x": value})


@pytest.mark.parametrize("plain", [
    "12:30", "NO", "no", "Yes", "on", "Off", "y", "~", "Null", "NULL", "True", "FALSE", "012345", "0x1F", "0o17",
    "1_000", "+1", ".5", "1.", ".inf", "-.inf", ".nan", ".NaN", "2026-05-15", "2026-05-15T09:00:00Z", "1:20:30",
    "=", "0b101", "1e5", "1E5", "1e+5", "1.5e5", "1e400", "6503e1110000000000000001",
])
def test_a_plain_scalar_that_is_not_a_json_literal_is_its_string(load, plain):
    assert same(load(f"x: {plain}\n"), {"x": plain})


@pytest.mark.parametrize("text", ["x: '12'\n", 'x: "true"\n', "x: 'null'\n", "x: |\n  12\n", "x: >-\n  null\n",
                                  "x: !!str 1.5\n", "x: ''\n"])
def test_quoted_block_and_str_tagged_scalars_are_strings(load, text):
    assert type(load(text)["x"]) is str


@pytest.mark.parametrize("text, value", [
    ("x: !!int 12", 12), ("x: !!float 1.5", 1.5), ("x: !!float 1e5", 100000.0), ("x: !!bool false", False),
    ("x: !!null null", None), ("x: !!null", None), ("x: !!int '-7'", -7),
])
def test_a_json_tag_is_taken_on_the_literal_it_names(load, text, value):
    assert same(load(text), {"x": value})


@pytest.mark.parametrize("text, message", [
    ("x: !!int 1.5", "line 1, column 4: x: '1.5' is not a JSON int (tag !!int)"),
    ("x: !!int 0x1F", "line 1, column 4: x: '0x1F' is not a JSON int (tag !!int)"),
    ("x: !!float 1", "line 1, column 4: x: '1' is not a JSON float (tag !!float)"),
    ("x: !!bool yes", "line 1, column 4: x: 'yes' is not a JSON bool (tag !!bool)"),
    ("x: !!null ~", "line 1, column 4: x: '~' is not a JSON null (tag !!null)"),
    ("a:\n  b: [1, !!float .inf]\n", "line 2, column 10: a.b[1]: '.inf' is not a JSON float (tag !!float)"),
])
def test_a_json_tag_on_anything_else_is_refused_naming_the_place(load, text, message):
    with pytest.raises(yamlio.RefusedValue) as refused:
        load(text)
    assert isinstance(refused.value, yaml.YAMLError) and str(refused.value) == message


# --- numbers: what a float holds, integers within 64 bits ----------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("pipelines:\n- id: p1\n  settings:\n    delay: 1.0e+400\n",
     "line 4, column 12: pipelines[0].settings.delay: 1.0e+400 is out of range for a number"),
    ("x: -1.0e+400", "line 1, column 4: x: -1.0e+400 is out of range for a number"),
    ("x: 1.0e-400", "line 1, column 4: x: 1.0e-400 is out of range for a number"),
    ("x: [9223372036854775808]", "line 1, column 5: x[0]: 9223372036854775808 is out of range for a number"),
    ("x: -9223372036854775808", "line 1, column 4: x: -9223372036854775808 is out of range for a number"),
    ("x: !!float 1e309", "line 1, column 4: x: 1e309 is out of range for a number"),
    ("x: " + "9" * 5000, "line 1, column 4: x: " + "9" * 37 + "... is out of range for a number"),
    ("1.0e+400", "line 1, column 1: 1.0e+400 is out of range for a number"),
])
def test_yaml_numbers_out_of_range_are_refused_naming_the_place(load, text, message):
    with pytest.raises(yamlio.RefusedValue) as refused:
        load(text)
    assert isinstance(refused.value, yaml.YAMLError) and str(refused.value) == message


@pytest.mark.parametrize("text, message", [
    ('{"pipelines": [{"settings": {"delay": 1e400}}]}',
     "pipelines[0].settings.delay: 1e400 is out of range for a number"),
    ('{"x": -1e400}', "x: -1e400 is out of range for a number"),
    ('{"x": [1, 1e-400]}', "x[1]: 1e-400 is out of range for a number"),
    ('{"x": 2e-324}', "x: 2e-324 is out of range for a number"),
    ('{"x": 1e309}', "x: 1e309 is out of range for a number"),
    ('{"x": 9223372036854775808}', "x: 9223372036854775808 is out of range for a number"),
    ('{"x": -9223372036854775808}', "x: -9223372036854775808 is out of range for a number"),
    ('{"x": 1' + "0" * 5000 + "}", "x: 1" + "0" * 36 + "... is out of range for a number"),
    ("1e400", "1e400 is out of range for a number"),
])
def test_json_numbers_out_of_range_are_refused_naming_the_place(text, message):
    with pytest.raises(yamlio.RefusedValue) as refused:
        yamlio.load_json(text)
    assert str(refused.value) == message


@pytest.mark.parametrize("text, value", [
    ("1.7976931348623157e308", 1.7976931348623157e308), ("-1.7976931348623157e308", -1.7976931348623157e308),
    ("1e308", 1e308), ("5e-324", 5e-324), ("3e-324", 5e-324), ("-0.0", -0.0), ("0e-400", 0.0), ("0.0", 0.0),
    ("9223372036854775807", 2**63 - 1), ("-9223372036854775807", -(2**63 - 1)), ("1e5", 100000.0), ("-0", 0),
])
def test_json_numbers_at_the_limits_load(text, value):
    assert same(yamlio.load_json(text), value)


@pytest.mark.parametrize("value", [1.7976931348623157e308, -1.7976931348623157e308, 1e308, 5e-324, -5e-324, -0.0,
                                   2.2250738585072014e-308, 2**63 - 1, -(2**63 - 1), 0.1, 1e16, 1e-7])
def test_numbers_at_the_limits_round_trip_with_their_type(load, value):
    assert same(load(yamlio.dump({"x": value})), {"x": value})


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 2**63, -(2**63), 10**400])
def test_numbers_json_cannot_hold_are_not_dumped(value):
    with pytest.raises(yaml.representer.RepresenterError, match="cannot store"):
        yamlio.dump({"x": value})


# --- lone surrogates ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ('{"org": {"name": "A\\ud800"}}', r"org.name: 'A\ud800' holds a lone surrogate '\ud800' at character 1 (not text)"),
    ('{"a": [{"\\udc00": 1}]}', r"a[0]: field name '\udc00' holds a lone surrogate '\udc00' at character 0 (not text)"),
    ('["\\udfff"]', r"[0]: '\udfff' holds a lone surrogate '\udfff' at character 0 (not text)"),
    ('{"x": "\ud800"}', r"x: '\ud800' holds a lone surrogate '\ud800' at character 0 (not text)"),
])
def test_json_strings_with_a_lone_surrogate_are_refused_naming_the_place(text, message):
    with pytest.raises(yamlio.RefusedValue) as refused:
        yamlio.load_json(text)
    assert str(refused.value) == message


def test_json_surrogate_pairs_and_escaped_backslashes_are_text():
    assert yamlio.load_json(r'{"e": "\ud83d\ude00", "b": "\\ud800"}') == {"e": "\U0001f600", "b": "\\ud800"}


@pytest.mark.parametrize("text", ['x: "\\ud800"\n', '"\\udc00": 1\n', 'x: ["a\\uDFFF"]\n', 'x: "\\U0000D800"\n'])
def test_yaml_strings_with_a_lone_surrogate_are_refused(load, text):
    with pytest.raises(yaml.YAMLError, match="(?i)surrogate|invalid Unicode character escape"):
        load(text)


def test_a_yaml_surrogate_is_named_with_its_place_where_the_scanner_lets_it_through():
    with pytest.raises(yamlio.RefusedValue) as refused:
        LOADERS["pure"]('a:\n  "b\\ud800": 1\n')
    assert str(refused.value) == (
        r"line 2, column 3: a: field name 'b\ud800' holds a lone surrogate '\ud800' at character 1 (not text)")


# --- the dumper writes what the loader reads back ----------------------------------------------------

@pytest.mark.parametrize("value, line", [
    ("12:30", "x: '12:30'"), ("NO", "x: 'NO'"), ("012345", "x: '012345'"), ("1.5", "x: '1.5'"), ("", "x: ''"),
    ("null", "x: 'null'"), ("~", "x: '~'"), (".inf", "x: '.inf'"), ("1e5", "x: 1e5"), ("x y", "x: x y"),
    (1e16, "x: 1.0e+16"), (1e-7, "x: 1.0e-07"), (-0.0, "x: -0.0"), (None, "x: null"), (True, "x: true"),
])
def test_strings_are_plain_only_where_yaml_1_1_and_the_loader_read_them_alike(value, line):
    assert yamlio.dump({"x": value}).decode() == line + "\n"
    assert same(yamlio.load(yamlio.dump({"x": value})), {"x": value})


# --- read_document: one problem line naming the file and the place ----------------------------------

@pytest.mark.parametrize("name, content, problem", [
    ("x.json", b'{"pipelines": [{"settings": {"delay": 1e400}}]}',
     "x.json: pipelines[0].settings.delay: 1e400 is out of range for a number"),
    ("x.json", b'{"org": {"name": "\\ud800"}}',
     r"x.json: org.name: '\ud800' holds a lone surrogate '\ud800' at character 0 (not text)"),
    ("x.yaml", b"pipelines:\n- settings: {delay: 1.0e+400}\n",
     "x.yaml: line 2, column 21: pipelines[0].settings.delay: 1.0e+400 is out of range for a number"),
    ("x.json", b'{"a": 1, "a": 2}', "x.json: invalid JSON: duplicate key 'a'"),
    ("x.yaml", b"x: !!float yes\n", "x.yaml: line 1, column 4: x: 'yes' is not a JSON float (tag !!float)"),
])
def test_read_document_reports_one_line_naming_the_file_and_the_place(name, content, problem):
    problems = sources._Problems()
    assert sources.read_document(content, name, problems, as_json=name.endswith(".json")) is None
    assert problems == [problem]
