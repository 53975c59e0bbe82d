"""The canonical YAML serialiser and the safe loader.

Same data, same bytes: keys sorted (``id``/``stubref`` then ``name`` first), multi-line strings as
literal blocks where a literal block can hold them exactly (PyYAML falls back to a quoted style
where it cannot), unicode kept, no anchors or aliases. Loading is always safe loading.
"""

from __future__ import annotations

from typing import Any

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_FIRST_KEYS = {"id": 0, "stubref": 0, "name": 1}


def _key_order(key: Any) -> tuple[int, str]:
    return (_FIRST_KEYS.get(key, 2), str(key))


class _CanonicalDumper(_BaseDumper):  # type: ignore[misc, valid-type]
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_dict(dumper: yaml.SafeDumper, value: dict) -> yaml.MappingNode:
    items = sorted(value.items(), key=lambda item: _key_order(item[0]))
    return dumper.represent_mapping("tag:yaml.org,2002:map", items)


_CanonicalDumper.add_representer(str, _represent_str)
_CanonicalDumper.add_representer(dict, _represent_dict)


def dump(data: Any) -> bytes:
    """Serialise ``data`` to canonical YAML bytes."""
    text = yaml.dump(
        data,
        Dumper=_CanonicalDumper,
        allow_unicode=True,
        default_flow_style=False,
        sort_keys=False,
        width=2**31 - 1,
    )
    return text.encode("utf-8")


def load(text: str | bytes) -> Any:
    """Safely load one YAML (or JSON) document; raises ``yaml.YAMLError`` on bad input."""
    return yaml.load(text, Loader=_Loader)


def find_shared_node(data: Any) -> bool:
    """True when a list or mapping appears twice in ``data`` (a YAML alias was used)."""
    seen: set[int] = set()
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if id(node) in seen:
            return True
        seen.add(id(node))
        stack.extend(children)
    return False
