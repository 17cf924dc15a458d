"""YAML documents that remember where each value came from.

Scenario files, the MIC configuration and the mocks' fixtures are all YAML written by
people; when one is wrong, the message names the file, line and column and says what
was expected, never a traceback. ``${NAME}`` in a string is replaced from the variables
given (the fleet passes the servers' URLs this way); ``${NAME:-default}`` may be left unset.
An unquoted value that is one ``${NAME}`` alone is typed after substitution as YAML types
it (``port: ${PORT}`` is a number); a quoted one stays a string.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

Pointer = tuple[Any, ...]
#: ``${NAME}``, or ``${NAME:-default}`` for what may be left unset (a server not every caller runs)
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class YamlError(Exception):
    """A readable complaint about a place in a file."""

    def __init__(self, source: str, line: int | None, column: int | None, message: str) -> None:
        self.source, self.line, self.column, self.message = source, line, column, message
        where = source if line is None else f"{source}:{line}:{column}"
        super().__init__(f"{where}: {message}")


@dataclass
class Document:
    source: str
    data: Any
    positions: dict[Pointer, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Pointer, tuple[int, int]] = field(default_factory=dict)
    #: the values written as plain (unquoted) scalars, which YAML types by their text
    plain: set[Pointer] = field(default_factory=set)

    def where(self, pointer: Pointer) -> tuple[int | None, int | None]:
        """The line and column of a value, or of its nearest enclosing value."""
        pointer = tuple(pointer)
        while True:
            if pointer in self.positions:
                return self.positions[pointer]
            if not pointer:
                return None, None
            pointer = pointer[:-1]

    def error(self, pointer: Pointer, message: str, *, at_key: bool = False) -> YamlError:
        pointer = tuple(pointer)
        line, column = (self.key_positions.get(pointer) if at_key else None) or self.where(pointer)
        return YamlError(self.source, line, column, message)

    def get(self, pointer: Pointer) -> Any:
        value = self.data
        for part in pointer:
            value = value[part]
        return value

    def validate(self, schema: dict, at: Pointer = ()) -> None:
        """Check the value at ``at`` against a JSON Schema; the first error in the file is raised."""
        validator = jsonschema.Draft202012Validator(schema)
        errors = list(validator.iter_errors(self.get(at)))
        if not errors:
            return
        # A missing key is often a misspelt one: report the stray key first.
        located = [(e.validator == "required", self._locate(e, tuple(at))) for e in errors]
        located.sort(key=lambda pair: (pair[0], pair[1].line or 0, pair[1].column or 0))
        raise located[0][1]

    def _locate(self, error: jsonschema.ValidationError, at: Pointer) -> YamlError:
        error = _most_specific(error)
        pointer = at + tuple(error.absolute_path)
        at = describe_pointer(pointer)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = sorted(error.schema.get("properties", {}))
            extra = [k for k in error.instance if k not in allowed]
            if extra:
                hint = (" (YAML reads on/off/yes/no as true/false: quote the key)"
                        if isinstance(extra[0], bool) else "")
                return self.error(pointer + (extra[0],),
                                  f"unknown key '{extra[0]}' in {at}; expected one of: {', '.join(allowed)}{hint}",
                                  at_key=True)
        if error.validator == "required":
            return self.error(pointer, f"{at} is missing {error.message.split(' is a required')[0]}")
        return self.error(pointer, f"{at}: {error.message}")


def _most_specific(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """For oneOf/anyOf failures, the branch error that got deepest into the document."""
    while error.context:
        error = max(error.context, key=lambda e: (len(e.absolute_path), e.validator != "type"))
    return error


def describe_pointer(pointer: Pointer) -> str:
    if not pointer:
        return "the document"
    text = ""
    for part in pointer:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def load(path: str | Path, variables: dict[str, str] | None = None) -> Document:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlError(str(path), None, None, f"cannot read: {exc}") from None
    return parse(text, str(path), variables)


def parse(text: str, source: str, variables: dict[str, str] | None = None) -> Document:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise YamlError(source, 1, 1, "the file is empty")
        document = Document(source, None)
        _record_positions(node, (), document)
        document.data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(p for p in (exc.context, exc.problem) if p)
        if exc.context_mark and mark and exc.context_mark.line != mark.line:
            message += f" (it began at line {exc.context_mark.line + 1})"
        raise YamlError(source, mark.line + 1 if mark else None, mark.column + 1 if mark else None,
                        f"YAML syntax error: {message}") from None
    except yaml.YAMLError as exc:
        raise YamlError(source, None, None, f"YAML error: {exc}") from None
    finally:
        loader.dispose()
    if variables is not None:
        document.data = _substitute(document, document.data, (), variables)
    return document


def _record_positions(node: yaml.Node, pointer: Pointer, document: Document) -> None:
    document.positions[pointer] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.ScalarNode) and node.style is None:
        document.plain.add(pointer)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            if key in seen:
                raise YamlError(document.source, key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                                f"duplicate key '{key}'")
            seen.add(key)
            document.key_positions[pointer + (key,)] = (key_node.start_mark.line + 1,
                                                        key_node.start_mark.column + 1)
            _record_positions(value_node, pointer + (key,), document)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_positions(item, pointer + (index,), document)


def _substitute(document: Document, value: Any, pointer: Pointer, variables: dict[str, str]) -> Any:
    if isinstance(value, str):
        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name not in variables and match.group(2) is not None:
                return match.group(2)
            if name not in variables:
                known = ", ".join(sorted(variables)) or "none"
                raise document.error(pointer, f"unknown variable ${{{name}}} (known: {known})")
            return variables[name]
        substituted = VARIABLE.sub(replace, value)
        if pointer in document.plain and VARIABLE.fullmatch(value):
            return _typed(substituted)
        return substituted
    if isinstance(value, dict):
        return {k: _substitute(document, v, pointer + (k,), variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(document, v, pointer + (i,), variables) for i, v in enumerate(value)]
    return value


def _typed(text: str) -> Any:
    """A substituted plain scalar as YAML would have read it: a number, a boolean, or else text."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (int, float, bool)) else text
