"""The canonical serialiser and the safe loader, both limited to JSON's data model.

Same data, same bytes: keys sorted (``id``/``stubref`` then ``name`` first), multi-line strings as
literal blocks where a literal block can hold them exactly (the emitter falls back to a quoted
style where it cannot), unicode kept, no anchors or aliases.

Loading is safe loading of what JSON can hold: mappings with string keys, lists, strings, numbers,
booleans and null. Dates stay strings (``2026-05-15`` reads the same from YAML and JSON); tags
such as ``!!binary`` or ``!!python/...``, aliases, merge keys, duplicate keys, NaN and infinities
are refused with the line and column. Nodes come from LibYAML where present and are turned into
Python values here, which is also faster than PyYAML's general constructor.
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.representer import RepresenterError

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_FIRST_KEYS = {"id": 0, "stubref": 0, "name": 1}
_TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL, MAP, SEQ = (_TAG + t for t in ("str", "int", "float", "bool", "null", "map", "seq"))
_MERGE, _TIMESTAMP = _TAG + "merge", _TAG + "timestamp"
_SCALARS = SafeConstructor()  # its int and float readers follow YAML 1.1 (0x1f, 1_000, 1.5e3)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The safe loader without the timestamp resolver: dates stay strings, as in JSON."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }


# --- loading ----------------------------------------------------------------------------------------


def load(text: str | bytes) -> Any:
    """Safely load one YAML (or JSON) document as JSON data; raises ``yaml.YAMLError`` on bad input."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    return None if node is None else _value(node, set())


def load_json(text: str) -> Any:
    """Load JSON, refusing duplicate keys and NaN/Infinity (``ValueError``)."""
    return json.loads(text, object_pairs_hook=_json_object, parse_constant=_json_constant)


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise ValueError(f"duplicate key {duplicate!r}")
    return mapping


def _json_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


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
            return node.value
        if tag == NULL:
            return None
        if tag == BOOL:
            return _SCALARS.construct_yaml_bool(node)
        if tag == INT:
            return _SCALARS.construct_yaml_int(node)
        if tag == FLOAT:
            number = _SCALARS.construct_yaml_float(node)
            if math.isnan(number) or math.isinf(number):
                raise _refuse(node, f"{node.value!r} is not a JSON number")
            return number
    elif isinstance(node, SequenceNode) and tag == SEQ:
        return [_value(item, seen) for item in node.value]
    elif isinstance(node, MappingNode) and tag == MAP:
        return _mapping(node, seen)
    raise _refuse(node, f"the tag {tag!r} is not allowed (documents hold JSON data)")


def _mapping(node: MappingNode, seen: set[int]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            raise _refuse(key_node, "merge keys (<<) are not allowed")
        key = _value(key_node, seen)
        if not isinstance(key, str):
            raise _refuse(key_node, f"field names must be strings, got {key!r}")
        if key in mapping:
            raise _refuse(key_node, f"duplicate key {key!r}")
        mapping[key] = _value(value_node, seen)
    return mapping


# --- dumping ----------------------------------------------------------------------------------------


def _key_order(item: tuple[Any, Any]) -> tuple[int, str]:
    return (_FIRST_KEYS.get(item[0], 2), str(item[0]))


def _float_text(value: float) -> str:
    """YAML 1.1's spelling of a float, as PyYAML's SafeRepresenter writes it."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
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
    if kind is int:
        return ScalarNode(INT, str(value))
    if kind is float:
        return ScalarNode(FLOAT, _float_text(value))
    raise RepresenterError(f"cannot store a {kind.__name__} in canonical YAML: {value!r}")


def dump(data: Any) -> bytes:
    """Serialise ``data`` to canonical YAML bytes."""
    text = yaml.serialize(_node(data), Dumper=_BaseDumper, allow_unicode=True, width=2**31 - 1)
    return text.encode("utf-8")
