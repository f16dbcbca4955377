"""Configuration as dataclasses, read from YAML and overridden from the command line.

Every field of a config dataclass is also a ``--field-name`` option; the order of
precedence is: defaults < ``--config FILE.yaml`` < command-line options.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from .errors import UserError
from .input_files import require_file

T = TypeVar("T")


def _field_type(cls: type, field: dataclasses.Field) -> Any:
    hints = typing.get_type_hints(cls)
    return hints[field.name]


def _base_type(tp: Any) -> tuple[Any, bool]:
    """(inner type, optional) for ``X | None``; lists stay as they are."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        inner = [a for a in args if a is not type(None)]
        return inner[0], True
    return tp, False


def _coerce(name: str, value: Any, tp: Any, source: str) -> Any:
    base, optional = _base_type(tp)
    if value is None:
        if optional:
            return None
        raise UserError(f"{source}: '{name}' may not be empty; give a value or leave the key out")
    origin = typing.get_origin(base)
    try:
        if origin in (list, tuple):
            (item,) = typing.get_args(base)[:1]
            items = value if isinstance(value, (list, tuple)) else [value]
            return [_coerce(name, v, item, source) for v in items]
        if base is bool:
            if isinstance(value, bool):
                return value
            text = str(value).lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if base is float and isinstance(value, bool) or base is int and isinstance(value, (bool, float)):
            raise ValueError
        result = base(value)
    except (TypeError, ValueError):
        raise UserError(f"{source}: '{name}' should be {getattr(base, '__name__', base)}, got {value!r}") from None
    if base is float and not math.isfinite(result):
        raise UserError(f"{source}: '{name}' should be a finite number, got {value!r}")
    return result


def from_dict(cls: type[T], data: dict[str, Any], source: str) -> T:
    """Build ``cls`` from a mapping, refusing unknown keys and wrong types in one line each."""
    if not isinstance(data, dict):
        raise UserError(f"{source}: expected a mapping of option names to values")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(map(str, set(data) - set(fields)))
    if unknown:
        raise UserError(f"{source}: unknown option(s) {', '.join(unknown)}; known: {', '.join(fields)}")
    values = {k: _coerce(k, v, _field_type(cls, fields[k]), source) for k, v in data.items()}
    config = cls(**values)
    check = getattr(config, "check", None)
    if check is not None:
        check()
    return config


def load_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    require_file(path, "config file", "give a YAML file")
    try:
        data = yaml.safe_load(path.read_text()) or {}
        _check_size(data, path)
    except OSError as err:
        raise UserError(f"config file {path} cannot be read ({err.strerror}); give a readable YAML file") from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise UserError(f"config file {path} is not valid YAML ({str(err).splitlines()[0]}); fix its syntax") from None
    if not isinstance(data, dict):
        raise UserError(f"config file {path} should hold a mapping of option names to values")
    return data


MAX_VALUES = 10_000
"""Most values (items, keys and scalars, aliases expanded) a config file may hold."""


def _check_size(data: Any, path: Path) -> None:
    """Refuse a document that expands to more than MAX_VALUES values (a YAML alias bomb), counting without expanding.

    Raises:
        UserError: it is too large.
    """
    pending, count = [data], 0
    while pending:
        item = pending.pop()
        count += 1
        if count > MAX_VALUES:
            raise UserError(f"config file {path} holds more than {MAX_VALUES} values once its aliases are expanded; "
                            "write the options out plainly")
        if isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item


def add_arguments(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = ()) -> None:
    """One ``--option`` per field of ``cls``, defaulting to 'not given' so YAML values survive."""
    for field in dataclasses.fields(cls):
        if field.name in skip:
            continue
        flag = "--" + field.name.replace("_", "-")
        base, _ = _base_type(_field_type(cls, field))
        help_text = field.metadata.get("help", "")
        if typing.get_origin(base) in (list, tuple):
            parser.add_argument(flag, dest=field.name, action="append", default=None, help=help_text)
        else:
            parser.add_argument(flag, dest=field.name, default=None, help=help_text, metavar=field.name.upper())


def resolve(cls: type[T], args: argparse.Namespace, config_path: str | None, extra: dict[str, Any] | None = None) -> T:
    """Defaults, then the YAML file, then options given on the command line."""
    data = load_yaml(config_path) if config_path else {}
    names = {f.name for f in dataclasses.fields(cls)}
    given = {k: v for k, v in vars(args).items() if k in names and v is not None}
    data.update(given)
    data.update(extra or {})
    return from_dict(cls, data, config_path or "options")
