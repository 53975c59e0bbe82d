"""The results' JSON shapes for ``/openapi.json``: one pydantic model per result dataclass of ``models``.

The results are dataclasses (the CLI starts without pydantic); the service documents each route's
answer with the model made here from the same fields, under the names ``Result.to_json`` gives them.
"""

from __future__ import annotations

import types
import typing
from dataclasses import MISSING
from functools import cache
from typing import Any

from pydantic import BaseModel, Field, create_model

from ..models import Result, result_fields


@cache
def documented(cls: type[Result]) -> type[BaseModel]:
    """The pydantic model whose serialization schema is ``cls``'s JSON document (a route's ``response_model``)."""
    hints = typing.get_type_hints(cls)
    definitions: dict[str, Any] = {}
    for item in result_fields(cls):
        if not item.metadata.get("hidden"):
            info = Field(_default(item), serialization_alias=item.metadata.get("json", item.name))
            definitions[item.name] = (_documented(hints[item.name]), info)
    written = cls.__doc__ if cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}(") else None
    return create_model(cls.__name__, __doc__=written, **definitions)


def _default(item: Any) -> Any:
    if item.default is not MISSING:
        return item.default
    return ... if item.default_factory is MISSING else item.default_factory()


def _documented(annotation: Any) -> Any:
    """``annotation`` with each result class in it replaced by its documenting model."""
    if isinstance(annotation, type) and issubclass(annotation, Result):
        return documented(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if not args or origin is typing.Literal:
        return annotation
    args = tuple(_documented(arg) for arg in args)
    return typing.Union[args] if origin in (typing.Union, types.UnionType) else origin[args]
