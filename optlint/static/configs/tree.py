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
from dataclasses import dataclass

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
    # a multi-document YAML stream: the first document is the config (as OmegaConf reads
    # one); the others are checked for syntax only


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
            if _is_jsonc(text):
                return ConfigFile(path, text, None, kind)  # VS Code / TypeScript's JSON with comments
            raise SourceError(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
        except RecursionError:
            raise SourceError("invalid JSON: too deeply nested to read") from None
    import yaml

    try:
        nodes = _compose(text, slow_retry=kind == "yaml")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "cannot be read"
        row, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        if kind == "json":  # valid JSON that the YAML reader refuses (tabs, say): no positions
            return ConfigFile(path, text, _plain_tree(text), kind)
        raise SourceError(f"invalid YAML: {problem}", row, column) from None
    except RecursionError:
        if kind == "json":
            return ConfigFile(path, text, _plain_tree(text), kind)
        raise SourceError("invalid YAML: too deeply nested to read") from None
    except yaml.YAMLError as exc:
        if kind == "json":
            return ConfigFile(path, text, _plain_tree(text), kind)
        raise SourceError(f"invalid YAML: {exc}") from None
    if not nodes:
        return ConfigFile(path, text, None, kind)
    constructor = yaml.SafeLoader("")
    memo: dict[int, Node] = {}
    try:
        first = next((node for node in nodes if node is not None), None)
        if first is not None and _merged_size(first) > MAX_MERGED_KEYS:
            mark = first.start_mark
            raise SourceError(f"YAML merge keys (`<<`) expand to more than {MAX_MERGED_KEYS} keys", mark.line + 1, mark.column + 1)
        tree = _convert(first, constructor, memo) if first is not None else None
    except RecursionError:
        if kind == "json":
            return ConfigFile(path, text, _plain_tree(text), kind)
        raise SourceError("invalid YAML: too deeply nested to read") from None
    except (yaml.YAMLError, TypeError, ValueError) as exc:
        if kind == "json":
            return ConfigFile(path, text, _plain_tree(text), kind)
        message = getattr(exc, "problem", None) or str(exc)
        mark = getattr(exc, "problem_mark", None)
        row, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        raise SourceError(f"invalid YAML: {message}", row, column) from None
    return ConfigFile(path, text, tree, kind)


#: A file whose merge keys (`<<: [*a, *a]`, nested) would copy more keys than this is refused:
#: each level can multiply the keys (a "billion laughs" of merges).
MAX_MERGED_KEYS = 100_000


def _merged_size(root) -> int:
    """How many keys the file's mappings hold once merge keys are expanded (each composed
    node counted once: an alias is the same node and costs nothing more)."""
    import yaml

    flat: dict[int, int] = {}

    def keys(node) -> int:  # the keys of one mapping, merged ones included
        if id(node) in flat:
            return flat[id(node)]
        flat[id(node)] = 0  # a mapping that merges itself: PyYAML's own recursion refuses it
        count = 0
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                count += sum(keys(source) for source in sources if isinstance(source, yaml.MappingNode))
            else:
                count += 1
        flat[id(node)] = count = min(count, MAX_MERGED_KEYS + 1)
        return count

    seen: set[int] = set()
    stack, total = [root], 0
    while stack and total <= MAX_MERGED_KEYS:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            total += keys(node)
            stack.extend(value for pair in node.value for value in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return total


def _compose(text: str, slow_retry: bool) -> list:
    """The file's documents as PyYAML's nodes: libyaml's composer where PyYAML was built with
    it (the same nodes and marks, several times faster); a YAML file it refuses is read again
    by the pure-Python one, whose error messages say more (and which it may accept). A JSON
    file is valid already (json.loads said so): one the composer refuses (tabs) is not read
    twice, its data is used without positions."""
    import yaml

    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return list(yaml.compose_all(text, Loader=fast))
        except yaml.YAMLError:
            if not slow_retry:
                raise
    return list(yaml.compose_all(text, Loader=yaml.SafeLoader))


def _convert(node, constructor, memo: dict[int, Node]) -> Node:
    """The node's tree; a node reached twice (a YAML alias) is converted once and shared, so
    nested aliases ("billion laughs") and a node that holds itself cost their size in the file."""
    import yaml

    if id(node) in memo:
        return memo[id(node)]
    row, column = node.start_mark.line + 1, node.start_mark.column + 1
    if isinstance(node, yaml.MappingNode):
        converted = memo[id(node)] = Node(row, column, items={}, tag=node.tag)
        constructor.flatten_mapping(node)  # YAML merge keys (`<<: *base`)
        for key_node, value_node in node.value:
            key = _scalar(key_node, constructor)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                continue
            converted.items[str(key)] = (_convert(key_node, constructor, memo), _convert(value_node, constructor, memo))
        return converted
    if isinstance(node, yaml.SequenceNode):
        converted = memo[id(node)] = Node(row, column, elements=[], tag=node.tag)
        converted.elements.extend(_convert(e, constructor, memo) for e in node.value)
        return converted
    converted = memo[id(node)] = Node(row, column, numeric(_scalar(node, constructor)), tag=node.tag)
    return converted


def _scalar(node, constructor):
    """A scalar's value; a tag the safe loader does not build (`!!python/object`, a custom
    `!include`) or that Python cannot build leaves its text: not a broken file."""
    import yaml

    if not isinstance(node, yaml.ScalarNode):
        return None
    try:
        return constructor.construct_object(node, deep=True)
    except (yaml.constructor.ConstructorError, ValueError, TypeError, OverflowError):
        # an unknown tag, `!!int abc`, an int past Python's digit limit: its text
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


_JSONC_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*|/\*.*?\*/|,(?=\s*[]}])', re.S)


def _is_jsonc(text: str) -> bool:
    """JSON with comments (and trailing commas: tsconfig.json, .vscode/settings.json): another
    tool's format, which no optimizer config read by ``json.load`` can be; not a broken file."""
    import json

    changed = False

    def drop(match) -> str:
        nonlocal changed
        token = match.group()
        if token.startswith('"'):
            return token
        changed = changed or token.startswith("/")  # a trailing comma alone is a broken JSON
        return "\n" * token.count("\n")

    stripped = _JSONC_TOKEN.sub(drop, text)
    if not changed:
        return False
    try:
        json.loads(stripped)
    except (ValueError, RecursionError):
        return False
    return True


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
