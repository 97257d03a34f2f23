"""The base of every input model (scenario sections, protocol parameters): frozen, no unknown keys,
finite floats, and no booleans where a number or text is expected. One place for these rules."""

from __future__ import annotations

from typing import get_args

from pydantic import BaseModel, ConfigDict, model_validator


class CrossFieldError(ValueError):
    """A rule that relates several fields failed; ``field`` is the dotted path to blame."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def _holds_model(annotation: object) -> bool:
    """Whether a field annotation is, or contains, a pydantic model (a sub-table)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_model(a) for a in get_args(annotation))


def _bool_at(value: object, holds_model: bool) -> str | None:
    """Where a boolean sits in a field's value (``""``: the value itself, ``".k"``: an item), or None;
    ``holds_model``: the field's annotation holds a model (its sub-tables check themselves)."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, list | tuple):
        return next((f".{i}" for i, v in enumerate(value) if isinstance(v, bool)), None)
    if isinstance(value, dict) and not holds_model:
        return next((f".{k}" for k, v in value.items() if isinstance(v, bool)), None)
    return None


_NUMBER_FIELDS: dict[type, dict[str, bool]] = {}
"""Per model class: its fields that are not booleans -> whether the field holds a sub-model (computed once a class)."""


def _number_fields(cls: type[BaseModel]) -> dict[str, bool]:
    fields = _NUMBER_FIELDS.get(cls)
    if fields is None:
        fields = {name: _holds_model(info.annotation) for name, info in cls.model_fields.items() if info.annotation is not bool}
        _NUMBER_FIELDS[cls] = fields
    return fields


class StrictModel(BaseModel):
    """Frozen, unknown keys are errors, every float finite (no nan / inf anywhere), and ``true``/``false``
    refused for any field that is not a boolean (pydantic would read 1/0): :class:`CrossFieldError`
    naming the field (and the item, for a list or table of numbers)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_as_numbers(cls, data: object) -> object:
        if isinstance(data, dict):
            fields = _number_fields(cls)
            for key, value in data.items():
                holds_model = fields.get(key) if isinstance(key, str) else None
                where = None if holds_model is None else _bool_at(value, holds_model)
                if where is not None:
                    raise CrossFieldError(key + where, "expected a number or text, got a boolean (true/false)")
        return data
