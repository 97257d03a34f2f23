"""Load a scenario (preset name or TOML file), apply ``--set key=value`` overrides, validate.

Every failure is a :class:`qrate.errors.InputError` whose field is the dotted path of the
offending value (``links.leo.aperture_radius_m``) and whose message says what was expected.

Limits: a scenario file (or text) is at most :data:`MAX_SCENARIO_BYTES` (1 MiB; a real one is a few
KiB, and ``/dev/zero`` must not exhaust memory), tables and arrays nest at most
:data:`MAX_NESTING` levels deep, a scenario has at most
:data:`~qrate.scenario.schema.MAX_USERS` users, and an error message quotes at most
:data:`MAX_QUOTE` characters of the offending value.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, get_args, get_origin

import tomli_w
from pydantic import BaseModel, ValidationError

from qrate.errors import InputError
from qrate.scenario.axes import EXCLUSIVE_KEYS, check_axes
from qrate.scenario.presets import is_preset, preset_names, preset_text
from qrate.scenario.schema import MAX_USERS, CrossFieldError, Scenario
from qrate.text import printable

MAX_SCENARIO_BYTES = 1 << 20
"""Largest scenario file or text accepted (1 MiB)."""
MAX_NESTING = 16
"""Deepest nesting of tables and arrays accepted (a scenario needs 4)."""
MAX_QUOTE = 80
"""Longest quote of an offending value (or field-path segment) in an error message."""
MAX_MESSAGE = 500
"""Longest error message (it stays one line)."""


def read_source(source: str | Path) -> tuple[str, str]:
    """Return ``(label, toml_text)`` for a preset name or a path to a TOML file."""
    text_source = str(source)
    path = Path(text_source)
    if path.suffix == ".toml" or path.exists():
        try:
            return str(path), _read_bounded(path)
        except FileNotFoundError:
            raise InputError("SCENARIO", f"no such file {text_source!r}") from None
        except UnicodeDecodeError as exc:
            raise InputError("SCENARIO", f"{text_source!r} is not UTF-8 text (byte {exc.start})") from None
        except OSError as exc:
            raise InputError("SCENARIO", f"cannot read {text_source!r}: {exc.strerror}") from None
    if is_preset(text_source):
        return f"preset:{text_source}", preset_text(text_source)
    raise InputError("SCENARIO", f"{text_source!r} is neither a file nor a preset; presets: {', '.join(preset_names())}")


def _read_bounded(path: Path) -> str:
    """The UTF-8 text of ``path``, reading at most :data:`MAX_SCENARIO_BYTES` + 1 bytes (``/dev/zero``,
    a FIFO or a huge file are refused, not read into memory)."""
    with path.open("rb") as fh:
        raw = fh.read(MAX_SCENARIO_BYTES + 1)
    if len(raw) > MAX_SCENARIO_BYTES:
        raise InputError(
            "SCENARIO",
            f"{_short(str(path))!r} is larger than {MAX_SCENARIO_BYTES >> 20} MiB; a scenario file is a few KiB of TOML",
        )
    return raw.decode("utf-8")


def parse_toml(text: str, label: str = "scenario") -> dict[str, Any]:
    """Parse TOML text; syntax errors, text over 1 MiB and too deep nesting become InputError naming the file."""
    where = _short(printable(label))
    if len(text) > MAX_SCENARIO_BYTES:
        raise InputError(where, f"{len(text)} characters; a scenario is at most {MAX_SCENARIO_BYTES >> 20} MiB of TOML")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(where, f"invalid TOML: {_short(printable(str(exc)), MAX_MESSAGE)}") from None
    except RecursionError:
        raise InputError(where, f"tables or arrays nested more than {MAX_NESTING} levels deep") from None
    check_nesting(data, where)
    return data


def check_nesting(data: Any, field: str = "scenario") -> None:
    """InputError if tables / arrays in ``data`` nest more than :data:`MAX_NESTING` levels (no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, Mapping) else node if isinstance(node, list | tuple) else None
        if children is None:
            continue
        if depth > MAX_NESTING:
            raise InputError(field, f"tables or arrays nested more than {MAX_NESTING} levels deep")
        stack.extend((child, depth + 1) for child in children)


def _key_parts(key: str) -> list[str] | None:
    """The parts of a TOML dotted key (``a.b``, ``sweep."links.leo.x"``), or None if it is not one."""
    try:
        node: Any = tomllib.loads(f"{key} = 0")
    except tomllib.TOMLDecodeError:
        return None
    parts = []
    while isinstance(node, dict) and len(node) == 1:
        ((k, node),) = node.items()
        parts.append(k)
    return parts


def parse_override(item: str) -> tuple[list[str], Any]:
    """Split ``key.path=value``; the value is parsed as a TOML value, else taken as a string."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InputError("--set", f"expected KEY=VALUE, got {item!r}")
    parts = _key_parts(key)
    if parts is None or any(not p for p in parts):
        raise InputError("--set", f"expected a dotted key such as links.leo.aperture_radius_m, got {key!r}")
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    except RecursionError:
        raise InputError("--set", f"{_short(key)}: value nested more than {MAX_NESTING} levels deep") from None
    return parts, value


def apply_overrides(data: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Return a deep copy of ``data`` with each ``key=value`` override set (tables created as needed).

    Setting one of a pair of mutually exclusive keys (:data:`EXCLUSIVE_KEYS`) removes the other,
    so ``--set links.leo.aperture_diameter_m=3`` works on a preset that gives a radius.
    """
    out = _deep_copy(data)
    for item in overrides:
        parts, value = parse_override(item)
        node: Any = out
        for i, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                where = ".".join(parts[: i + 1])
                raise InputError(".".join(parts), f"cannot set a key inside {where}, which is a value, not a table")
            node = child
        node.pop(EXCLUSIVE_KEYS.get(parts[-1], ""), None)
        node[parts[-1]] = value
    return out


def validate_data(data: Mapping[str, Any], *, text_checked: bool = False) -> Scenario:
    """Validate raw TOML data into a :class:`Scenario`; errors name the field path.

    ``text_checked``: the data's nesting and text were checked already (a grid point's data, built
    from a validated scenario and its checked sweep values), so only the model is validated.
    """
    if not text_checked:
        check_nesting(data)
        _check_utf8(data)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise _input_error(exc, data) from None
    check_whole(scenario)
    return scenario


def check_whole(scenario: Scenario) -> None:
    """The rules checked on a validated scenario as a whole: at most :data:`MAX_USERS` users
    (:func:`check_users`), and the sweep's axes (:func:`qrate.scenario.axes.check_axes`)."""
    check_users(scenario)
    check_axes(scenario)


def check_users(scenario: Scenario) -> None:
    """At most :data:`MAX_USERS` users in all (InputError naming ``nodes.ground_stations``)."""
    n_users = len(scenario.users())
    if n_users > MAX_USERS:
        raise InputError("nodes.ground_stations", f"{n_users} users in all; a scenario has at most {MAX_USERS}")


def apply_sweep_axes(data: Mapping[str, Any], items: Sequence[str]) -> dict[str, Any]:
    """``data`` with each ``--sweep PATH=V1,V2,...`` axis set (replacing that axis; values parsed as TOML)."""
    out = _deep_copy(data)
    for item in items:
        path, sep, raw = item.partition("=")
        path = path.strip()
        if not sep or not path or not raw.strip():
            raise InputError("--sweep", f"expected PATH=V1,V2,..., got {item!r}")
        try:
            values = tomllib.loads(f"v = [{raw}]")["v"]
        except tomllib.TOMLDecodeError:
            values = [v.strip() for v in raw.split(",")]
        sweep = out.setdefault("sweep", {})
        if not isinstance(sweep, dict):
            raise InputError("--sweep", "the scenario's sweep is not a table")
        sweep[path] = values
    return out


def load_scenario(source: str | Path, overrides: Sequence[str] = (), sweeps: Sequence[str] = ()) -> Scenario:
    """Load a preset or TOML file, apply ``--set`` overrides and ``--sweep`` axes, and validate."""
    label, text = read_source(source)
    try:
        data = apply_sweep_axes(apply_overrides(parse_toml(text, label), overrides), sweeps)
        return validate_data(data)
    except RecursionError:  # a backstop: the nesting checks above should make this unreachable
        raise InputError(_short(printable(label)), f"tables or arrays nested more than {MAX_NESTING} levels deep") from None


def load_scenario_text(text: str, overrides: Sequence[str] = ()) -> Scenario:
    """Validate a scenario given as TOML text."""
    return validate_data(apply_overrides(parse_toml(text), overrides))


# ----------------------------------------------------------------------------- TOML writing
def scenario_to_toml(scenario: Scenario) -> str:
    """Serialise a scenario to TOML text (tomli-w) that loads back to an equal scenario."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    if not data.get("memories"):  # a scenario without memories reads as before they existed
        data.pop("memories", None)
    return tomli_w.dumps(data)


# --------------------------------------------------------------------------- error messages
def _short(text: str, limit: int = MAX_QUOTE) -> str:
    """``text``, or its start and its length when longer than ``limit`` characters."""
    if len(text) <= limit:
        return text
    return f"{text[: max(limit - 30, 10)]}... ({len(text)} characters)"


def _short_field(field: str) -> str:
    """A dotted field path with over-long segments (e.g. a 40000-character user name) shortened."""
    return ".".join(_short(part, 40) for part in field.split("."))


def _check_utf8(data: Any, path: tuple[str, ...] = ()) -> None:
    """Every key and string must be valid Unicode (``--set`` from non-UTF-8 bytes leaves surrogates)."""
    items = data.items() if isinstance(data, Mapping) else enumerate(data) if isinstance(data, list | tuple) else ()
    for key, value in items:
        where = (*path, str(key))
        for text in (key, value):
            if isinstance(text, str):
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    raise InputError(
                        _short_field(printable(".".join(where))), f"not valid UTF-8 text: {_short(repr(text))}"
                    ) from None
        _check_utf8(value, where)


def _deep_copy(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data


def _clean_path(loc: Sequence[str | int], data: Any) -> list[str]:
    """Drop pydantic's union tags from ``loc``: keep only segments that index into the input."""
    out: list[str] = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if (isinstance(node, Mapping) and part in node) or (
            isinstance(node, list | tuple) and isinstance(part, int) and part < len(node)
        ):
            out.append(str(part))
            node = node[part]  # type: ignore[index]  # a key of a mapping or an index of a sequence, checked above
        elif isinstance(node, list | tuple) or (isinstance(node, Mapping) and not last):
            continue  # a union tag (e.g. "free_space", "range", "list"): stay at this node
        else:
            out.append(str(part))
            node = None
    return out


def _model_at(path: Sequence[str], data: Any) -> type[BaseModel] | None:
    """The pydantic model class that validates the table at ``path`` (best effort)."""
    model: type[BaseModel] | None = Scenario
    node = data
    i = 0
    while i < len(path) and model is not None:
        field = model.model_fields.get(path[i])
        if field is None:
            return None
        node = node.get(path[i]) if isinstance(node, Mapping) else None
        annotation = field.annotation
        if get_origin(annotation) is dict:  # a table of named entries: skip the entry's name
            i += 1
            if i == len(path):
                return None
            node = node.get(path[i]) if isinstance(node, Mapping) else None
            annotation = get_args(annotation)[1]
        model = _resolve_model(annotation, node)
        i += 1
    return model


def _resolve_model(annotation: Any, node: Any) -> type[BaseModel] | None:
    found: list[type[BaseModel]] = []

    def collect(a: Any) -> None:
        if isinstance(a, type) and issubclass(a, BaseModel):
            found.append(a)
        else:
            for arg in get_args(a):
                collect(arg)

    collect(annotation)
    if len(found) == 1:
        return found[0]
    if isinstance(node, Mapping) and "kind" in node:
        for cls in found:
            kind = cls.model_fields.get("kind")
            if kind is not None and node["kind"] in get_args(kind.annotation):
                return cls
    return None


def _describe(err: Mapping[str, Any], path: list[str], data: Any) -> tuple[str, str]:
    kind = err["type"]
    if kind == "value_error" and isinstance(err.get("ctx", {}).get("error"), CrossFieldError):
        cfe: CrossFieldError = err["ctx"]["error"]
        return ".".join(_clean_path((*err["loc"], *cfe.field.split(".")), data)), cfe.message
    field = ".".join(path) or "scenario"
    msg = str(err["msg"])
    if kind == "extra_forbidden":
        model = _model_at(path[:-1], data)
        allowed = f"; expected one of: {', '.join(model.model_fields)}" if model is not None else ""
        return field, f"unknown key{allowed}"
    if kind == "missing":
        return field, "required field is missing"
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return field + ".kind", 'expected kind = "fiber" or kind = "free_space"'
    if "input" in err and kind not in ("model_type", "dict_type"):
        return field, f"{msg}, got {_short(repr(err['input']))}"
    return field, msg


def _input_error(exc: ValidationError, data: Mapping[str, Any]) -> InputError:
    described = []
    for err in exc.errors():
        path = _clean_path(err["loc"], data)
        described.append(_describe(err, path, data))
    described = [(_short_field(printable(f)), _short(printable(m), MAX_MESSAGE)) for f, m in described]
    field, message = described[0]
    if len(described) > 1:
        rest = "; ".join(f"{f}: {m}" for f, m in described[1:4])
        more = f" (+{len(described) - 4} more)" if len(described) > 4 else ""
        message = f"{message}; also {rest}{more}"
    return InputError(field, message)
