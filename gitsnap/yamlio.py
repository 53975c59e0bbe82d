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
Nodes come from LibYAML where present and are turned into Python values here, faster than
PyYAML's general constructor; LibYAML and the pure loader both ask ``resolve`` (Python) for tags.
"""

from __future__ import annotations

import json
import math
import re
from functools import partial
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.representer import RepresenterError

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_FIRST_KEYS = {"id": 0, "stubref": 0, "name": 1}
_TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL, MAP, SEQ = (_TAG + t for t in ("str", "int", "float", "bool", "null", "map", "seq"))
_MERGE = _TAG + "merge"
_LITERALS = {"null": NULL, "": NULL, "true": BOOL, "false": BOOL, "<<": _MERGE}  # a merge key, to refuse it
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")  # also YAML 1.2's reading
# JSON numbers YAML 1.1 reads as numbers too: an exponent needs a fraction and a sign (YAML 1.1 writers
# such as PyYAML, and gitsnap before, write the strings 1e5 or 6503e1110000000000000001 plain)
_PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+([eE][+-][0-9]+)?)?")
_INT_MAX = 2**63 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # in JSON text: maybe a lone one, maybe half of a pair


class RefusedValue(ValueError):
    """A value outside the data model, named with its path: ``a[0].b: 1e400 is out of range for a number``."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path


class _RefusedNode(RefusedValue, ConstructorError):
    """A RefusedValue in YAML, with its line and column; a ``yaml.YAMLError`` like every refusal of ``load``."""

    def __init__(self, path: str, problem: str, node: Node):
        RefusedValue.__init__(self, path, problem)
        ConstructorError.__init__(self, None, None, self.args[0], node.start_mark)

    def __str__(self) -> str:
        return f"line {self.problem_mark.line + 1}, column {self.problem_mark.column + 1}: {self.problem}"


def _json_tag(plain: str, numbers: re.Pattern = _JSON_NUMBER) -> str:
    """The tag of the JSON literal ``plain`` spells (null, bool, int, float), or str (or merge, for ``<<``)."""
    literal = _LITERALS.get(plain)
    if literal:
        return literal
    number = numbers.fullmatch(plain)
    if number is None:
        return STR
    return INT if number.lastindex is None else FLOAT


def _json_int(text: str) -> int | None:
    """The integer ``text`` spells, or None beyond the signed 64-bit range."""
    if len(text) > 20:  # a sign and 19 digits; longer texts are out of range (and slow to read)
        return None
    number = int(text)
    return number if -_INT_MAX <= number <= _INT_MAX else None


def _json_float(text: str) -> float | None:
    """The float ``text`` spells, or None when it overflows to infinity or a non-zero value underflows to 0."""
    number = float(text)
    if math.isinf(number) or (number == 0.0 and text.lower().partition("e")[0].strip("-0.")):
        return None
    return number


def _out_of_range(text: str) -> str:
    return f"{_brief(text)} is out of range for a number"


def _surrogate_problem(text: str) -> str | None:
    """Why ``text`` is not Unicode text (a lone surrogate), or None when it is."""
    found = None if text.isascii() else _SURROGATE.search(text)
    if found is None:
        return None
    return f"{_brief(repr(text))} holds a lone surrogate {found.group()!r} at character {found.start()} (not text)"


def _brief(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _path_text(path: tuple) -> str:
    """``pipelines[0].settings.delay``: how gitsnap names a place inside a document."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


# --- loading YAML -----------------------------------------------------------------------------------


class _JSONResolver:
    """Resolves a plain scalar to a JSON literal's tag or str; mixed into LibYAML's loader or PyYAML's."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is ScalarNode and implicit[0]:
            return _json_tag(value, _PLAIN_NUMBER)
        return super().resolve(kind, value, implicit)  # type: ignore[misc]


class _Loader(_JSONResolver, _BaseLoader):  # type: ignore[misc, valid-type]
    """The safe loader (LibYAML's where present) whose plain scalars are JSON literals or strings."""


class _Misplaced(Exception):
    """A refused node, before ``load`` names its path."""

    def __init__(self, node: Node, problem: str):
        super().__init__(problem)
        self.node, self.problem = node, problem


# What reading a stored blob as a document can raise: bad YAML, bad UTF-8, or nesting past Python's stack.
UNREADABLE = (yaml.YAMLError, ValueError, UnicodeDecodeError, RecursionError)


def load(text: str | bytes) -> Any:
    """Safely load one YAML (or JSON) document as JSON data; raises ``yaml.YAMLError`` on bad input."""
    return _document(_Loader(text))


def _document(loader: yaml.BaseLoader) -> Any:
    """The JSON data of the one document ``loader`` reads (``load``'s, or PyYAML's pure loader in tests)."""
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    if node is None:
        return None
    try:
        return _value(node, set())
    except _Misplaced as refused:
        raise _RefusedNode(_path_text(_path_to(node, refused.node, ()) or ()), refused.problem, refused.node) from None


def _refuse(node: Node, problem: str) -> ConstructorError:
    return ConstructorError(None, None, problem, node.start_mark)


def _value(node: Node, seen: set[int]) -> Any:
    """The JSON value of a composed node; ``seen`` holds the nodes met so far (an alias meets one twice)."""
    if id(node) in seen:
        raise _refuse(node, "YAML anchors and aliases are not allowed")
    seen.add(id(node))
    tag = node.tag
    if isinstance(node, ScalarNode):
        if tag == STR:
            problem = _surrogate_problem(node.value)
            if problem:
                raise _Misplaced(node, problem)
            return node.value
        if tag in (NULL, BOOL, INT, FLOAT):
            return _literal(node)
    elif isinstance(node, SequenceNode) and tag == SEQ:
        return [_value(item, seen) for item in node.value]
    elif isinstance(node, MappingNode) and tag == MAP:
        return _mapping(node, seen)
    raise _refuse(node, f"the tag {tag!r} is not allowed (documents hold JSON data)")


def _literal(node: ScalarNode) -> Any:
    """The null, boolean or number a scalar spells, checked against its tag (explicit tags are not resolved)."""
    text, tag = node.value, node.tag
    if _json_tag(text) != tag:
        kind = tag[len(_TAG):]
        raise _Misplaced(node, f"{_brief(repr(text))} is not a JSON {kind} (tag !!{kind})")
    if tag == NULL:
        return None
    if tag == BOOL:
        return text == "true"
    number = _json_int(text) if tag == INT else _json_float(text)
    if number is None:
        raise _Misplaced(node, _out_of_range(text))
    return number


def _mapping(node: MappingNode, seen: set[int]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            raise _refuse(key_node, "merge keys (<<) are not allowed")
        try:
            key = _value(key_node, seen)
        except _Misplaced as refused:
            refused.problem = f"field name {refused.problem}"
            raise
        if not isinstance(key, str):
            raise _refuse(key_node, f"field names must be strings, got {key!r}")
        if key in mapping:
            raise _refuse(key_node, f"duplicate key {key!r}")
        mapping[key] = _value(value_node, seen)
    return mapping


def _path_to(node: Node, target: Node, path: tuple) -> tuple | None:
    """The path of ``target`` below ``node`` (a key's path is its mapping's), in the order ``_value`` met them."""
    if node is target:
        return path
    if isinstance(node, SequenceNode):
        children = enumerate(node.value)
    elif isinstance(node, MappingNode):
        if any(key is target for key, _ in node.value):
            return path
        children = ((key.value, value) for key, value in node.value)
    else:
        return None
    for part, child in children:
        found = _path_to(child, target, (*path, part))
        if found is not None:
            return found
    return None


# --- loading JSON -----------------------------------------------------------------------------------


class _OutOfRange(str):
    """A number's text the JSON hooks refused, left in the loaded data for ``_json_refusal`` to place."""


def load_json(text: str) -> Any:
    """Load JSON, refusing duplicate keys and NaN/Infinity (``ValueError``) and values outside the data model
    (``RefusedValue``)."""
    refused: list[str] = []
    data = json.loads(text, object_pairs_hook=_json_object, parse_constant=_json_constant,
                      parse_int=partial(_json_number, _json_int, refused),
                      parse_float=partial(_json_number, _json_float, refused))
    # the walk only when it can find something (one regex over the text costs less than the walk)
    if refused or _SURROGATE_ESCAPE.search(text) or (not text.isascii() and _SURROGATE.search(text)):
        found = _json_refusal(data, ())
        if found:
            raise RefusedValue(_path_text(found[0]), found[1])
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
        return path, _out_of_range(value)
    if kind is str:
        problem = _surrogate_problem(value)
        return problem and (path, problem)
    if kind is list:
        children = enumerate(value)
    elif kind is dict:
        children = value.items()
    else:
        return None
    for part, child in children:
        problem = _surrogate_problem(part) if kind is dict else None
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


# --- dumping ----------------------------------------------------------------------------------------


class _Dumper(_BaseDumper):  # type: ignore[misc, valid-type]
    """The safe dumper that writes a string plain only where YAML 1.1 and ``load`` both read it back as that string."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str | None:
        if kind is ScalarNode and not implicit[0]:
            return STR  # quoted: a string to every reader (and half of the calls, kept cheap)
        tag = super().resolve(kind, value, implicit)
        # the loader's own rule, so that a change to it changes what is quoted and the round trip holds
        if tag == STR and kind is ScalarNode and _json_tag(value, _PLAIN_NUMBER) != STR:
            return None  # matches no node's tag, so the emitter quotes the string
        return tag


def _key_order(item: tuple[Any, Any]) -> tuple[int, str]:
    return (_FIRST_KEYS.get(item[0], 2), str(item[0]))


def _float_text(value: float) -> str:
    """YAML 1.1's spelling of a finite float (a JSON number too), as PyYAML's SafeRepresenter writes it."""
    text = repr(value).lower()
    return text.replace("e", ".0e", 1) if "." not in text and "e" in text else text


def _node(value: Any) -> Node:
    """The node canonical YAML writes for ``value`` (block style; literal blocks for multi-line strings)."""
    kind = type(value)
    if kind is str:
        return ScalarNode(STR, value, style="|" if "\n" in value else None)
    if kind is dict:
        items = sorted(value.items(), key=_key_order)
        return MappingNode(MAP, [(_node(k), _node(v)) for k, v in items], flow_style=False)
    if kind is list or kind is tuple:
        return SequenceNode(SEQ, [_node(item) for item in value], flow_style=False)
    if value is None:
        return ScalarNode(NULL, "null")
    if kind is bool:
        return ScalarNode(BOOL, "true" if value else "false")
    if kind is int and -_INT_MAX <= value <= _INT_MAX:
        return ScalarNode(INT, str(value))
    if kind is float and math.isfinite(value):
        return ScalarNode(FLOAT, _float_text(value))
    if kind is int or kind is float:
        raise RepresenterError(f"cannot store {value!r} in canonical YAML (numbers are finite, integers 64-bit)")
    raise RepresenterError(f"cannot store a {kind.__name__} in canonical YAML: {value!r}")


def dump(data: Any) -> bytes:
    """Serialise ``data`` to canonical YAML bytes."""
    text = yaml.serialize(_node(data), Dumper=_Dumper, allow_unicode=True, width=2**31 - 1)
    return text.encode("utf-8")
