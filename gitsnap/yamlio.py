"""The canonical serialiser and the safe loader, both holding exactly JSON's data model.

Same data, same bytes: keys sorted (``id``/``stubref`` then ``name`` first), multi-line strings as
literal blocks where a literal block can hold them exactly (the emitter falls back to a quoted
style where it cannot), unicode kept, no anchors or aliases.

Loading gives what JSON can hold: mappings with string keys, lists, strings, numbers, booleans
and null. A plain (unquoted) YAML scalar is null, a boolean or a number only where JSON's grammar
and YAML 1.1 (PyYAML, which wrote gitsnap's files so far) both read it so; else it is its string::

    null  true  false  and an empty value (key:)        None  True  False  None
    -?(0|[1-9][0-9]*)                                   an int:   12  -3  0
    the same with .fraction, then optionally e±exp      a float:  1.5  -0.0  1.0e+16
    12:30  NO  on  Yes  ~  Null  012345  0x1F  1_000  .inf  .nan  2026-05-15
    1e5  1.5e5  6503e1110000000000000001 (an id)        strings, as YAML 1.1 writers meant them

Quoted and block scalars are strings. Explicit tags: ``!!str`` always; ``!!null``, ``!!bool``,
``!!int`` and ``!!float`` only on the JSON literal they name (``!!float 1e5`` is 100000.0); any
other tag, anchors and aliases, merge keys, duplicate keys and non-string keys are refused with
the line and column. JSON (``load_json``) and YAML both refuse, naming the value and its path
(``pipelines[0].settings.delay: 1e400 is out of range for a number``): numbers a float cannot
hold (JSON's ``1e400``, YAML's ``1.0e+400``; ``1e-400``, which would read as 0), integers beyond
the signed 64-bit range, and strings holding a lone surrogate (``"\\ud800"``); JSON also refuses
NaN and Infinity.

The dumper writes a scalar plain only where YAML 1.1 and this loader read it back alike (else it
quotes it), so ``load(dump(v)) == v``, and the bytes are PyYAML's for every value stored so far;
it refuses the numbers the loader refuses (NaN, infinities, integers beyond 64 bits).
Nodes come from LibYAML where present and are turned into Python values (``yamlnodes``), faster
than PyYAML's general constructor; LibYAML and the pure loader both ask ``resolve`` (Python) for tags.
``load``, ``dump``, ``UNREADABLE`` and ``YAMLError`` import PyYAML on first use: a command that reads no YAML
does not pay for its import.
"""

from __future__ import annotations

import json
import math
import re
from functools import partial
from typing import Any

TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL, MAP, SEQ = (TAG + t for t in ("str", "int", "float", "bool", "null", "map", "seq"))
MERGE = TAG + "merge"
_LITERALS = {"null": NULL, "": NULL, "true": BOOL, "false": BOOL, "<<": MERGE}  # a merge key, to refuse it
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")  # also YAML 1.2's reading
# JSON numbers YAML 1.1 reads as numbers too: an exponent needs a fraction and a sign (YAML 1.1 writers
# such as PyYAML, and gitsnap before, write the strings 1e5 or 6503e1110000000000000001 plain)
PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+([eE][+-][0-9]+)?)?")
INT_MAX = 2**63 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # in JSON text: maybe a lone one, maybe half of a pair


class RefusedValue(ValueError):
    """A value outside the data model, named with its path: ``a[0].b: 1e400 is out of range for a number``."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path


def json_tag(plain: str, numbers: re.Pattern = _JSON_NUMBER) -> str:
    """The tag of the JSON literal ``plain`` spells (null, bool, int, float), or str (or merge, for ``<<``)."""
    literal = _LITERALS.get(plain)
    if literal:
        return literal
    number = numbers.fullmatch(plain)
    if number is None:
        return STR
    return INT if number.lastindex is None else FLOAT


def json_int(text: str) -> int | None:
    """The integer ``text`` spells, or None beyond the signed 64-bit range."""
    if len(text) > 20:  # a sign and 19 digits; longer texts are out of range (and slow to read)
        return None
    number = int(text)
    return number if -INT_MAX <= number <= INT_MAX else None


def json_float(text: str) -> float | None:
    """The float ``text`` spells, or None when it overflows to infinity or a non-zero value underflows to 0."""
    number = float(text)
    if math.isinf(number) or (number == 0.0 and text.lower().partition("e")[0].strip("-0.")):
        return None
    return number


def out_of_range(text: str) -> str:
    return f"{brief(text)} is out of range for a number"


def surrogate_problem(text: str) -> str | None:
    """Why ``text`` is not Unicode text (a lone surrogate), or None when it is."""
    found = None if text.isascii() else _SURROGATE.search(text)
    if found is None:
        return None
    return f"{brief(repr(text))} holds a lone surrogate {found.group()!r} at character {found.start()} (not text)"


def brief(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def path_text(path: tuple) -> str:
    """``pipelines[0].settings.delay``: how gitsnap names a place inside a document."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text

# --- loading JSON -----------------------------------------------------------------------------------


class _OutOfRange(str):
    """A number's text the JSON hooks refused, left in the loaded data for ``_json_refusal`` to place."""


def load_json(text: str) -> Any:
    """Load JSON, refusing duplicate keys and NaN/Infinity (``ValueError``) and values outside the data model
    (``RefusedValue``)."""
    refused: list[str] = []
    data = json.loads(text, object_pairs_hook=_json_object, parse_constant=_json_constant,
                      parse_int=partial(_json_number, json_int, refused),
                      parse_float=partial(_json_number, json_float, refused))
    # the walk only when it can find something (one regex over the text costs less than the walk)
    if refused or _SURROGATE_ESCAPE.search(text) or (not text.isascii() and _SURROGATE.search(text)):
        found = _json_refusal(data, ())
        if found:
            raise RefusedValue(path_text(found[0]), found[1])
    return data


def _json_number(read: Any, refused: list[str], text: str) -> int | float | str:
    number = read(text)
    if number is None:
        refused.append(text)
        return _OutOfRange(text)
    return number


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise ValueError(f"duplicate key {duplicate!r}")
    return mapping


def _json_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _json_refusal(value: Any, path: tuple) -> tuple[tuple, str] | None:
    """The path and problem of the first refused number or lone surrogate in ``value``, in document order."""
    kind = type(value)
    if kind is _OutOfRange:
        return path, out_of_range(value)
    if kind is str:
        problem = surrogate_problem(value)
        return problem and (path, problem)
    if kind is list:
        children = enumerate(value)
    elif kind is dict:
        children = value.items()
    else:
        return None
    for part, child in children:
        problem = surrogate_problem(part) if kind is dict else None
        found = (path, f"field name {problem}") if problem else _json_refusal(child, (*path, part))
        if found:
            return found
    return None


MAX_DEPTH = 100  # lists and mappings within each other; deeper data is refused before anything else reads it


def too_deep(value: Any, limit: int = MAX_DEPTH) -> tuple | None:
    """The path to the first list or mapping nested deeper than ``limit``, or None (found without recursion)."""
    stack = [(value, ())]
    while stack:
        item, path = stack.pop()
        if len(path) > limit:
            return path
        children = item.items() if type(item) is dict else enumerate(item)
        stack.extend((child, (*path, part)) for part, child in children if type(child) in (dict, list))
    return None


# --- YAML, from yamlnodes on first use ----------------------------------------------------------------

_FROM_YAMLNODES = ("load", "dump", "UNREADABLE", "YAMLError")


def __getattr__(name: str) -> Any:
    """``load`` (YAML or JSON text to JSON data), ``dump`` (data to canonical YAML bytes), ``UNREADABLE`` (what
    reading a stored blob as a document can raise) and ``YAMLError`` (PyYAML's), from ``yamlnodes`` when first
    asked for."""
    if name not in _FROM_YAMLNODES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import yamlnodes

    for imported in _FROM_YAMLNODES:
        globals()[imported] = getattr(yamlnodes, imported)
    return globals()[name]
