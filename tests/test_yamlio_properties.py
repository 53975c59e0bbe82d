"""Properties of the loader and the dumper over open-ended input: JSON's data model, exactly."""

from __future__ import annotations

import json
import math
import re

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gitsnap import yamlio

from .test_yamlio import LOADERS, same

INT_MAX = 2**63 - 1
JSON_NUMBER = r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?"
PLAIN_INT = re.compile(r"-?(0|[1-9][0-9]*)")
PLAIN_FLOAT = re.compile(r"-?(0|[1-9][0-9]*)\.[0-9]+([eE][+-][0-9]+)?")  # YAML 1.1 wants the fraction and sign

# Characters where YAML's quoting and line handling is delicate, mixed into ordinary text.
AWKWARD = ["\x00", "\x07", "\t", "\n", "\r", "\r\n", " ", "\x85", "\u2028", "\u2029", "\ufeff", "\x7f", "\xa0",
           "#", ":", "-", "?", "'", '"', "\\", "|", ">", "&", "*", "!", "%", "@", "`", "{", "[", ",",
           "e", "E", "0", "1", "9", ".", "+", "_", "x", "~", "y", "n", "é", "日", "\U0001f600"]
texts = st.text() | st.lists(st.sampled_from(AWKWARD), max_size=12).map("".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-INT_MAX, INT_MAX) | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=25,
)
# What YAML 1.1 or a person might write unquoted: numbers in every spelling, booleans, nulls, times, words.
LOOKALIKES = ["null", "Null", "NULL", "~", "true", "True", "TRUE", "false", "yes", "Yes", "no", "NO", "on", "Off",
              "y", "n", ".inf", "-.Inf", ".nan", ".NaN", "<<", "="]
plain_candidates = (
    st.sampled_from(LOOKALIKES)
    | st.from_regex(JSON_NUMBER, fullmatch=True)
    | st.text(st.sampled_from("0123456789.-+eE_:xXoObB"), min_size=1, max_size=14)
    | st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?Z?)?", fullmatch=True)
    | st.text(min_size=1)
)


def expected_plain(text: str):
    """What the documented rule says a plain scalar reads as (a JSON literal YAML 1.1 also reads so, else the text)."""
    if text in ("null", ""):
        return None
    if text in ("true", "false"):
        return text == "true"
    if PLAIN_INT.fullmatch(text):
        return int(text)
    if PLAIN_FLOAT.fullmatch(text):
        return float(text)
    return text


def not_zero(number: str) -> bool:
    """Whether a JSON number's digits before the exponent are not all zeros."""
    return any(digit in "123456789" for digit in re.split("[eE]", number)[0])


def emitted_plain(text: str) -> str | None:
    """``x: <text>`` with the text as a plain scalar, or None where YAML cannot write it plain."""
    events = [yaml.StreamStartEvent(), yaml.DocumentStartEvent(), yaml.MappingStartEvent(None, None, True),
              yaml.ScalarEvent(None, None, (True, True), "x"), yaml.ScalarEvent(None, None, (True, True), text),
              yaml.MappingEndEvent(), yaml.DocumentEndEvent(), yaml.StreamEndEvent()]
    document = yaml.emit(events, allow_unicode=True, width=2**31 - 1)
    scalars = [event for event in yaml.parse(document) if isinstance(event, yaml.ScalarEvent)]
    return document if scalars[1].style is None else None


@pytest.mark.parametrize("loader", sorted(LOADERS))
@settings(max_examples=400, deadline=None)
@given(value=json_values)
def test_every_json_value_round_trips_with_its_types(loader, value):
    dumped = yamlio.dump({"data": value})
    loaded = LOADERS[loader](dumped)
    assert same(loaded, {"data": value})
    assert yamlio.dump(loaded) == dumped


@pytest.mark.parametrize("loader", sorted(LOADERS))
@settings(max_examples=600, deadline=None)
@given(text=plain_candidates)
def test_a_plain_scalar_is_a_json_literal_or_stays_its_string(loader, text):
    document = emitted_plain(text)
    assume(document is not None)
    expected = expected_plain(text)
    if text == "<<" or (isinstance(expected, int) and not isinstance(expected, bool) and abs(expected) > INT_MAX) \
            or (isinstance(expected, float) and (math.isinf(expected) or (expected == 0 and not_zero(text)))):
        with pytest.raises(yaml.YAMLError):  # a merge key, or a number out of range
            LOADERS[loader](document)
    else:
        assert same(LOADERS[loader](document), {"x": expected})


@settings(max_examples=300, deadline=None)
@given(text=plain_candidates)
def test_every_string_reads_back_as_itself_here_and_in_yaml_1_1(text):
    dumped = yamlio.dump({"x": text})
    assert yamlio.load(dumped) == {"x": text}
    assert yaml.safe_load(dumped) == {"x": text}


@settings(max_examples=500, deadline=None)
@given(text=st.from_regex(JSON_NUMBER, fullmatch=True))
def test_a_json_number_loads_when_a_64_bit_integer_or_a_float_holds_it(text):
    is_int = re.fullmatch(r"-?[0-9]+", text) is not None
    number = int(text) if is_int and len(text) < 400 else float(text)
    if (is_int and abs(number) > INT_MAX) or (not is_int and (math.isinf(number) or (number == 0 and not_zero(text)))):
        with pytest.raises(yamlio.RefusedValue, match=r"^x\[0\]: .* is out of range for a number$"):
            yamlio.load_json(f'{{"x": [{text}]}}')
    else:
        assert same(yamlio.load_json(f'{{"x": [{text}]}}'), {"x": [number]})


@settings(max_examples=300, deadline=None)
@given(number=st.floats(allow_nan=False, allow_infinity=False) | st.integers(-INT_MAX, INT_MAX))
def test_numbers_python_writes_as_json_load_back_the_same(number):
    assert same(yamlio.load_json(json.dumps({"x": number})), {"x": number})


@settings(max_examples=300, deadline=None)
@given(before=st.text(), surrogate=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), after=st.text(),
       as_key=st.booleans())
def test_a_lone_surrogate_in_json_is_refused_naming_its_place(before, surrogate, after, as_key):
    text = before + surrogate + after
    document = json.dumps({"a": [{text: 1} if as_key else text]})  # ASCII, so the surrogate is a \\u escape
    place = "a[0]: field name " if as_key else "a[0]: "
    with pytest.raises(yamlio.RefusedValue) as refused:
        yamlio.load_json(document)
    assert str(refused.value).startswith(place)
    assert str(refused.value).endswith(f"holds a lone surrogate {surrogate!r} at character {len(before)} (not text)")


@settings(max_examples=200, deadline=None)
@given(before=st.text(), surrogate=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))
def test_a_lone_surrogate_in_a_yaml_escape_is_refused_by_either_loader(before, surrogate):
    document = "x: " + json.dumps(before + surrogate) + "\n"  # a YAML double-quoted scalar with \\u escapes
    for load in LOADERS.values():
        with pytest.raises(yaml.YAMLError):
            load(document)
