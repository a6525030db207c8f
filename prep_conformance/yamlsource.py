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


# Profiles are untrusted input (applicants write them): every YAML file is bounded before it is
# expanded. A profile is a few KiB; the convocatoria a few dozen; these limits are far above both.
MAX_BYTES = 2 * 1024 * 1024          # a larger file is refused unread
MAX_NODES = 20_000                   # nodes in the document as written (aliases counted once)
MAX_EXPANDED = 50_000                # nodes once every alias is expanded (an alias bomb stops here)
MAX_DEPTH = 64                       # nesting of mappings and sequences
MAX_NUMBER_CHARS = 64                # an integer or float literal longer than this is not a setting


class _Refused(Exception):
    """The document is refused by a bound; ``line`` is 1-based (or None)."""

    def __init__(self, line: int | None, message: str, key: str = ""):
        super().__init__(message)
        self.line, self.message, self.key = line, message, key


# libyaml when PyYAML was built with it (its wheels are): parsing is C, ~10 times faster than the pure
# Python parser; every bound below holds either way
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader) if yaml.__with_libyaml__ else yaml.SafeLoader
_NODE_EVENTS = (yaml.ScalarEvent, yaml.AliasEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)


def _check_size(text: str) -> None:
    """Refuse a huge or deeply nested document from its parse events, before any node is composed."""
    nodes = depth = 0
    deep = f"nested deeper than {MAX_DEPTH} levels"
    try:
        for ev in yaml.parse(text, Loader=_Loader):
            if isinstance(ev, _NODE_EVENTS):
                nodes += 1
                if isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                    depth += 1
                if nodes > MAX_NODES or depth > MAX_DEPTH:
                    what = f"more than {MAX_NODES} nodes" if nodes > MAX_NODES else deep
                    raise _Refused(ev.start_mark.line + 1, f"document too large: {what} / documento demasiado grande")
            elif isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as exc:      # libyaml's own nesting limit, met while it scans ahead
        mark = exc.problem_mark or exc.context_mark
        if "nesting depth" not in str(exc.problem or ""):
            raise
        raise _Refused(mark.line + 1 if mark else None, f"document too large: {deep} / documento demasiado grande")


def _check_expansion(root: yaml.Node) -> None:
    """Refuse recursive aliases and documents whose aliases expand past MAX_EXPANDED nodes
    (a billion-laughs bomb), by sizing the shared node graph: no expansion happens here."""
    sizes: dict[int, tuple[int, int]] = {}     # id(node) -> (expanded nodes, height)
    on_path: set[int] = set()

    def size(node: yaml.Node) -> tuple[int, int]:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in on_path:
            raise _Refused(node.start_mark.line + 1, "recursive alias / alias recursivo")
        on_path.add(key)
        total, height = 1, 1
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = []
        for child in children:
            n, h = size(child)
            total, height = total + n, max(height, h + 1)
            if height > MAX_DEPTH:
                raise _Refused(child.start_mark.line + 1, f"aliases nest deeper than {MAX_DEPTH} levels / "
                                                          f"los alias anidan más de {MAX_DEPTH} niveles")
            if total > MAX_EXPANDED:
                raise _Refused(child.start_mark.line + 1,
                               f"aliases expand to more than {MAX_EXPANDED} nodes (alias bomb?) / "
                               f"los alias se expanden a más de {MAX_EXPANDED} nodos")
        on_path.discard(key)
        sizes[key] = (total, height)
        return sizes[key]

    size(root)


_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def _construct(node: yaml.Node, loc: tuple, lines: dict[tuple, int], loader: Any,
               errors: list[tuple[int | None, str, str]]) -> Any:
    lines.setdefault(loc, node.start_mark.line + 1)
    key_path = ".".join(str(p) for p in loc)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                errors.append((line, key_path, "a key must be a plain word, not a list or mapping / "
                                               "una clave debe ser una palabra, no una lista ni un mapeo"))
                continue
            key = _construct(key_node, loc, {}, loader, errors)
            if key in first_line:
                where = f"{key_path}.{key}" if key_path else str(key)
                errors.append((line, where, f"duplicate key: given on lines {first_line[key]} and {line} / "
                                            f"clave repetida: en las líneas {first_line[key]} y {line}"))
                continue
            first_line[key] = line
            lines[loc + (key,)] = line
            out[key] = _construct(value_node, loc + (key,), lines, loader, errors)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, loc + (i,), lines, loader, errors) for i, item in enumerate(node.value)]
    if node.tag in _NUMBER_TAGS and len(str(node.value)) > MAX_NUMBER_CHARS:
        errors.append((node.start_mark.line + 1, key_path,
                       f"number too long ({len(str(node.value))} characters) / número demasiado largo"))
        return None
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, OverflowError, TypeError) as exc:   # e.g. a date that does not exist
        errors.append((node.start_mark.line + 1, key_path, f"invalid value: {exc} / valor inválido"))
        return None


def load_yaml(path: Path) -> YamlDocument:
    """Parse ``path`` within the bounds above; any problem becomes a SourceErrors naming the line."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise SourceErrors([SourceError(str(path), None, "", "file not found / no existe el archivo")])
    except OSError as exc:
        raise SourceErrors([SourceError(str(path), None, "", f"cannot read: {exc}")])
    if len(raw) > MAX_BYTES:
        raise SourceErrors([SourceError(str(path), None, "", f"file larger than {MAX_BYTES // (1024 * 1024)} MiB, "
                                                             f"refused / archivo de más de "
                                                             f"{MAX_BYTES // (1024 * 1024)} MiB, rechazado")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceErrors([SourceError(str(path), None, "", f"not UTF-8 text / no es texto UTF-8: {exc}")])
    loader = None
    errors: list[tuple[int | None, str, str]] = []
    try:
        _check_size(text)
        loader = _Loader(text)
        node = loader.get_single_node()
        lines: dict[tuple, int] = {}
        if node is not None:
            _check_expansion(node)
        data = _construct(node, (), lines, loader, errors) if node is not None else None
    except _Refused as exc:
        raise SourceErrors([SourceError(str(path), exc.line, exc.key, exc.message)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise SourceErrors([SourceError(str(path), mark.line + 1 if mark else None, "",
                                        f"YAML syntax error: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise SourceErrors([SourceError(str(path), None, "", f"YAML error: {exc}")]) from None
    except RecursionError:
        raise SourceErrors([SourceError(str(path), None, "", "document nested too deep / "
                                                             "documento anidado en exceso")]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if errors:
        raise SourceErrors([SourceError(str(path), line, key, msg) for line, key, msg in errors])
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
