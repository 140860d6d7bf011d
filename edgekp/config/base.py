"""Strict recipe models: unknown keys fail with the nearest valid key suggested."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from edgekp.errors import ConfigError


class StrictModel(BaseModel):
    """Base of every recipe section: no unknown keys, no silent coercion of types, frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _submodel_of(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel class inside an annotation such as ``Foo``, ``Foo | None`` or ``list[Foo]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _submodel_of(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, dict):
        for arg in typing.get_args(annotation):
            found = _submodel_of(arg)
            if found is not None:
                return found
    return None


def _fields_at(model: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    """Field names of the model that owns ``path`` (list indexes and dict keys are skipped)."""
    current: type[BaseModel] | None = model
    for part in path:
        if current is None:
            return []
        if isinstance(part, int) or part not in current.model_fields:
            continue
        current = _submodel_of(current.model_fields[part].annotation)
    return sorted(current.model_fields) if current is not None else []


def nearest(word: str, choices: typing.Iterable[str]) -> str | None:
    """The closest valid spelling of ``word``, or None when nothing is close."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return matches[0] if matches else None


def describe_validation_error(model: type[BaseModel], error: ValidationError, source: str) -> str:
    """One line that names every problem, with did-you-mean for unknown keys."""
    parts = []
    for item in error.errors():
        loc = tuple(item["loc"])
        dotted = ".".join(str(p) for p in loc) or "<root>"
        if item["type"] == "extra_forbidden":
            valid = _fields_at(model, loc[:-1])
            hint = nearest(str(loc[-1]), valid)
            tip = f"; did you mean {hint!r}?" if hint else f"; valid keys: {', '.join(valid)}"
            parts.append(f"unknown key {dotted!r}{tip}")
        else:
            seen = item.get("input")
            shown = repr(seen) if not isinstance(seen, dict) else "a mapping"
            parts.append(f"{dotted}: {item['msg']} (got {shown})")
    return f"{source}: " + "; ".join(parts)


def validate(model: type[BaseModel], data: Any, source: str) -> Any:
    """Build ``model`` from plain data, turning validation errors into a one-line ConfigError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(model, exc, source)) from None
