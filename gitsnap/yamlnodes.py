"""PyYAML's side of ``yamlio``: the loader that turns nodes into JSON data, and the canonical dumper.

``yamlio`` holds the data model's rules (which plain scalars are numbers, which numbers are refused)
and gives ``load``, ``dump`` and ``UNREADABLE`` from here, importing PyYAML only when a command
reads or writes YAML.
"""

from __future__ import annotations

import math
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.representer import RepresenterError

from .yamlio import (
    BOOL,
    FLOAT,
    INT,
    INT_MAX,
    MAP,
    MERGE,
    NULL,
    PLAIN_NUMBER,
    SEQ,
    STR,
    TAG,
    RefusedValue,
    brief,
    json_float,
    json_int,
    json_tag,
    out_of_range,
    path_text,
    surrogate_problem,
)

YAMLError = yaml.YAMLError
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_FIRST_KEYS = {"id": 0, "stubref": 0, "name": 1}


class _RefusedNode(RefusedValue, ConstructorError):
    """A RefusedValue in YAML, with its line and column; a ``yaml.YAMLError`` like every refusal of ``load``."""

    def __init__(self, path: str, problem: str, node: Node):
        RefusedValue.__init__(self, path, problem)
        ConstructorError.__init__(self, None, None, self.args[0], node.start_mark)

    def __str__(self) -> str:
        return f"line {self.problem_mark.line + 1}, column {self.problem_mark.column + 1}: {self.problem}"


# --- loading YAML -----------------------------------------------------------------------------------


class _JSONResolver:
    """Resolves a plain scalar to a JSON literal's tag or str; mixed into LibYAML's loader or PyYAML's."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is ScalarNode and implicit[0]:
            return json_tag(value, PLAIN_NUMBER)
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
        raise _RefusedNode(path_text(_path_to(node, refused.node, ()) or ()), refused.problem, refused.node) from None


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
            problem = surrogate_problem(node.value)
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
    if json_tag(text) != tag:
        kind = tag[len(TAG):]
        raise _Misplaced(node, f"{brief(repr(text))} is not a JSON {kind} (tag !!{kind})")
    if tag == NULL:
        return None
    if tag == BOOL:
        return text == "true"
    number = json_int(text) if tag == INT else json_float(text)
    if number is None:
        raise _Misplaced(node, out_of_range(text))
    return number


def _mapping(node: MappingNode, seen: set[int]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == MERGE:
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

# --- dumping ----------------------------------------------------------------------------------------


class _Dumper(_BaseDumper):  # type: ignore[misc, valid-type]
    """The safe dumper that writes a string plain only where YAML 1.1 and ``load`` both read it back as that string."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str | None:
        if kind is ScalarNode and not implicit[0]:
            return STR  # quoted: a string to every reader (and half of the calls, kept cheap)
        tag = super().resolve(kind, value, implicit)
        # the loader's own rule, so that a change to it changes what is quoted and the round trip holds
        if tag == STR and kind is ScalarNode and json_tag(value, PLAIN_NUMBER) != STR:
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
    if kind is int and -INT_MAX <= value <= INT_MAX:
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
