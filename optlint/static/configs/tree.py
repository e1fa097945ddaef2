"""YAML and JSON config files as trees that remember where each key and value is written.

PyYAML composes the file (``yaml.compose`` with the safe loader) into nodes that carry their
line and column; scalars are then built by PyYAML's own safe constructor. JSON is checked by
the standard ``json`` module (its error names the line and column) and placed through the
same YAML composer, which reads JSON as the YAML subset it is. Nothing in a file is run:
the safe loader builds plain data only.

One departure from YAML 1.1: a scalar such as ``1e-4`` (no dot), which PyYAML leaves a
string, is read as the number that OmegaConf (Hydra, torchtune) and jsonargparse (Lightning)
make of it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from optlint.static.source import SourceError

_FLOAT = re.compile(r"[-+]?(?:\d[\d_]*)?\.?\d*(?:[eE][-+]?\d+)?")


@dataclass
class Node:
    """A mapping, a sequence or a scalar of a config file, with its 1-based position."""

    row: int
    column: int
    value: object = None  # the scalar's value (None for containers)
    items: dict[str, tuple["Node", "Node"]] | None = None  # mapping: key -> (key node, value node)
    elements: list["Node"] | None = None  # sequence
    tag: str = ""
    file: str = ""  # set when the node was read from another file (a Hydra config group)

    @property
    def is_mapping(self) -> bool:
        return self.items is not None

    def get(self, key: str) -> "Node | None":
        if self.items is None or key not in self.items:
            return None
        return self.items[key][1]

    def key_node(self, key: str) -> "Node | None":
        if self.items is None or key not in self.items:
            return None
        return self.items[key][0]


@dataclass
class ConfigFile:
    path: str
    text: str
    root: Node | None  # None: an empty document
    kind: str  # "yaml" or "json"
    #: every document of a multi-document YAML stream past the first is ignored
    extra: list[Node] = field(default_factory=list)


def numeric(value):
    """A number written as YAML 1.1 leaves it a string (``1e-4``), else the value unchanged."""
    if isinstance(value, str) and value.strip() and _FLOAT.fullmatch(value.strip()) and any(c.isdigit() for c in value):
        try:
            return float(value.strip().replace("_", ""))
        except ValueError:
            return value
    return value


def load(path: str, text: str) -> ConfigFile:
    """The config file's tree; a file that is no valid YAML/JSON raises SourceError at its position."""
    kind = "json" if path.endswith(".json") else "yaml"
    if kind == "json":
        import json

        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
        except RecursionError:
            raise SourceError("invalid JSON: too deeply nested to read") from None
    import yaml

    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "cannot be read"
        row, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        if kind == "json":  # valid JSON that the YAML reader refuses (tabs, say): no positions
            return ConfigFile(path, text, _plain_tree(text), kind)
        raise SourceError(f"invalid YAML: {problem}", row, column) from None
    except (yaml.YAMLError, RecursionError) as exc:
        if kind == "json":
            return ConfigFile(path, text, _plain_tree(text), kind)
        raise SourceError(f"invalid YAML: {exc}") from None
    if not nodes:
        return ConfigFile(path, text, None, kind)
    constructor = yaml.SafeLoader("")
    try:
        trees = [_convert(node, constructor) for node in nodes if node is not None]
    except (yaml.YAMLError, RecursionError, TypeError) as exc:
        if kind == "json":
            return ConfigFile(path, text, _plain_tree(text), kind)
        message = getattr(exc, "problem", None) or str(exc)
        mark = getattr(exc, "problem_mark", None)
        row, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        raise SourceError(f"invalid YAML: {message}", row, column) from None
    return ConfigFile(path, text, trees[0] if trees else None, kind, trees[1:])


def _convert(node, constructor) -> Node:
    import yaml

    row, column = node.start_mark.line + 1, node.start_mark.column + 1
    if isinstance(node, yaml.MappingNode):
        constructor.flatten_mapping(node)  # YAML merge keys (`<<: *base`)
        items: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, constructor)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                continue
            items[str(key)] = (_convert(key_node, constructor), _convert(value_node, constructor))
        return Node(row, column, items=items, tag=node.tag)
    if isinstance(node, yaml.SequenceNode):
        return Node(row, column, elements=[_convert(e, constructor) for e in node.value], tag=node.tag)
    return Node(row, column, numeric(_scalar(node, constructor)), tag=node.tag)


def _scalar(node, constructor):
    """A scalar's value; a tag the safe loader does not build (`!!python/object`, a custom
    `!include`) leaves its text: valid YAML that some tool reads, not a broken file."""
    import yaml

    if not isinstance(node, yaml.ScalarNode):
        return None
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError:
        return node.value


def _plain_tree(text: str) -> Node:
    """A JSON document the YAML reader refuses: its data, every position at the file's start."""
    import json

    def build(value) -> Node:
        if isinstance(value, dict):
            return Node(1, 1, items={str(k): (Node(1, 1, str(k)), build(v)) for k, v in value.items()})
        if isinstance(value, list):
            return Node(1, 1, elements=[build(v) for v in value])
        return Node(1, 1, value)

    return build(json.loads(text))


def candidates(python_file: str, written: str, root: str) -> list[str]:
    """Where a path written in a Python file may point: its own folder, then the project root
    (scripts are usually run from there)."""
    if os.path.isabs(written):
        return [os.path.normpath(written)]
    return [os.path.normpath(os.path.join(os.path.dirname(python_file), written)), os.path.normpath(os.path.join(root, written))]


# -- comments (YAML has them; JSON has none) --------------------------------------------------


def comments(text: str) -> list[tuple[int, int, str]]:
    """(row, 0-based column, comment text) of each YAML comment: a `#` at a line's start or
    after whitespace, outside quotes (as YAML's scanner reads them)."""
    out = []
    for row, line in enumerate(text.splitlines(), 1):
        if "#" not in line:
            continue
        quote = None
        for index, char in enumerate(line):
            if quote:
                if char == quote:
                    quote = None
                continue
            if char in "'\"" and (index == 0 or line[index - 1] in " \t:[{,-"):
                quote = char
            elif char == "#" and (index == 0 or line[index - 1] in " \t"):
                out.append((row, index, line[index:]))
                break
    return out
