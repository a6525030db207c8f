"""YAML in, with the line of every key kept, so that every error names file, line and key path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import BaseModel, ValidationError


@dataclass(frozen=True)
class SourceError:
    """One problem in an input file: ``file:line: key.path: message``."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key or '(document)'}: {self.message}"


class SourceErrors(Exception):
    """All the problems found in one or more input files, reported at once."""

    def __init__(self, errors: Iterable[SourceError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML mapping and the line (1-based) of each key path."""

    path: Path
    data: Any
    lines: dict[tuple, int]

    def line_of(self, loc: tuple) -> int | None:
        """The line of ``loc`` or of its nearest ancestor that has one."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)


def _construct(node: yaml.Node, loc: tuple, lines: dict[tuple, int], loader: yaml.SafeLoader) -> Any:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            lines[loc + (key,)] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, loc + (key,), lines, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, loc + (i,), lines, loader) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def load_yaml(path: Path) -> YamlDocument:
    """Parse ``path``; a syntax error becomes a SourceErrors naming the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceErrors([SourceError(str(path), None, "", "file not found / no existe el archivo")])
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceErrors([SourceError(str(path), None, "", f"cannot read: {exc}")])
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[tuple, int] = {}
        data = _construct(node, (), lines, loader) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise SourceErrors([SourceError(str(path), mark.line + 1 if mark else None, "",
                                        f"YAML syntax error: {exc.problem or exc}")])
    except yaml.YAMLError as exc:
        raise SourceErrors([SourceError(str(path), None, "", f"YAML error: {exc}")])
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise SourceErrors([SourceError(str(path), 1, "", "expected a YAML mapping at the top level")])
    return YamlDocument(path, data, lines)


def _message(err: dict) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key / clave desconocida"
    if err["type"] == "missing":
        return "required key missing / falta la clave obligatoria"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        return msg[len("Value error, "):]
    value = err.get("input")
    if isinstance(value, (str, int, float, bool)) and len(repr(value)) < 80:
        msg += f" (got {value!r})"
    return msg


def validate(doc: YamlDocument, model: type[BaseModel], context: dict | None = None) -> BaseModel:
    """Validate ``doc`` against ``model``; every pydantic error becomes a SourceError with its line."""
    try:
        return model.model_validate(doc.data, context=context)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            errors.append(SourceError(str(doc.path), doc.line_of(loc), ".".join(str(p) for p in loc), _message(err)))
        errors.sort(key=lambda e: (e.line or 0, e.key))
        raise SourceErrors(errors) from None
