"""Bytes to text to trees: decoding as Python does, CPython's syntax verdict, LibCST parsing.

The bottom of the static pipeline: it imports nothing else from optlint but findings, so
every layer above (notebooks, the linter, fixes, the CLI) can share one ``SourceError``.
LibCST is imported only by ``parse``, i.e. only when a tree to rewrite is needed.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
import warnings
from dataclasses import dataclass

from optlint.findings import FileResult, Finding, Position


class SourceError(Exception):
    """A file that cannot be checked, with a 1-based position."""

    def __init__(self, message: str, row: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message, self.row, self.column = message, row, column


@dataclass
class Source:
    text: str
    encoding: str
    bom: bool


def decode(data: bytes) -> Source:
    """Decode bytes as Python does: BOM, then PEP 263 cookie, then UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if "invalid or missing encoding declaration" not in str(exc):
            raise SourceError(f"bad encoding declaration: {exc.msg}") from None
        encoding = "utf-8"  # no cookie and not UTF-8 in the first lines: report where decoding fails
    bom = encoding == "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        row = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        shown = "utf-8" if encoding == "utf-8-sig" else encoding
        raise SourceError(f"not valid {shown} text: byte {data[exc.start]:#04x} cannot be decoded", row, column) from None
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r} in the coding declaration") from None
    if "\x00" in text:
        offset = text.index("\x00")
        row = text.count("\n", 0, offset) + 1
        raise SourceError("source contains a NUL byte (binary file?)", row, offset - (text.rfind("\n", 0, offset) + 1) + 1)
    return Source(text.lstrip("\ufeff") if bom else text, encoding, bom)


def python_ast(text: str):
    """(this Python's AST, None) or (None, its SyntaxError as a SourceError).

    Its messages are the clearest, it is ~10x cheaper than LibCST, and rules use the tree
    as a second, exact-enough pre-filter before anything is parsed with LibCST.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the user's SyntaxWarnings are not ours to print
            return compile(text, "<checked file>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True), None
    except SyntaxError as exc:
        if "integer string conversion" in exc.msg:
            return None, _long_integer(text, exc)
        return None, SourceError(f"syntax error: {exc.msg}", exc.lineno or 1, exc.offset or 1)
    except (RecursionError, MemoryError):
        return None, SourceError("syntax error: too deeply nested to parse")
    except (OverflowError, ValueError) as exc:  # e.g. "source code string cannot contain null bytes"
        return None, SourceError(f"syntax error: {exc}")


def _long_integer(text: str, exc: SyntaxError) -> SourceError:
    """A decimal literal past Python's int_max_str_digits (4,300 by default): Python refuses
    to compile it, whatever its version."""
    row = exc.lineno or 1
    line = text.split("\n")[row - 1] if row <= text.count("\n") + 1 else ""
    match = re.search(r"\d[\d_]{4299,}", line)
    column = match.start() + 1 if match else (exc.offset or 1)
    digits = f"{sum(c.isdigit() for c in match.group()):,} digits" if match else "too many digits"
    return SourceError(
        f"integer literal too long: {digits}, more than Python converts (its int_max_str_digits limit); "
        "write it in hexadecimal or build it at run time",
        row,
        column,
    )


def in_file_encoding(patch: str, encoding: str) -> str:
    """A patch of a file stored in `encoding`, spelled so that writing it as UTF-8 with
    ``surrogateescape`` (how reports are written) gives the file's own bytes, as `--fix`
    would write them: `git apply` and `patch` match bytes, not characters. The ``---`` and
    ``+++`` lines name the file and stay as they are."""
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig"):
        return patch
    lines = patch.splitlines(keepends=True)
    head = [line for line in lines[:2] if line.startswith(("--- ", "+++ "))]
    body = "".join(lines[len(head):])
    return "".join(head) + body.encode(encoding).decode("utf-8", "surrogateescape")


def _python_syntax_error(text: str) -> SourceError | None:
    return python_ast(text)[1]


#: CPython's own limits (parentheses 200, indentation 100) sit far below these; LibCST's
#: native parser overflows its stack (a segfault, not an exception) somewhere past 2,000.
_MAX_SAFE_NESTING = 500
ANALYSIS_RECURSION_LIMIT = 20_000 if sys.version_info >= (3, 11) else 5_000
_TOO_DEEP = ("too many nested parentheses", "too many levels of indentation", "too deeply nested")


def _nesting_depth(text: str) -> int:
    """A cheap upper bound of bracket and indentation nesting (strings are not skipped)."""
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    indent = max((len(line) - len(line.lstrip()) for line in text.splitlines()), default=0)
    return max(deepest, indent // 2)


#: LibCST's native parser also recurses once per operator of a chain (`a and a and ...`); a
#: 10,000-term chain that CPython compiles overflows its stack. Text with more operators than
#: this in one logical line is never handed to it.
MAX_CHAIN_OPERATORS = 1_000
_OPERATOR = re.compile(r"\b(?:and|or)\b|\*\*|//|<<|>>|[-+*/%@&|^]")


def too_long_a_chain(text: str) -> bool:
    """A cheap, conservative test: some line (or the whole text, for continuation lines)
    holds more operators than LibCST's parser survives."""
    if len(_OPERATOR.findall(text)) <= MAX_CHAIN_OPERATORS:
        return False
    return any(len(_OPERATOR.findall(line)) > MAX_CHAIN_OPERATORS for line in text.splitlines()) or (
        text.count("\n") < 50
    )


def parse(text: str, python_error=...):
    """Parse with LibCST; SourceError with the reason and position on failure.

    CPython's compiler runs first: it is ~10x cheaper, its messages are the clearest, and
    it refuses the deep nesting that would crash LibCST's parser. Only code it rejects for
    other reasons (syntax newer than this Python) goes on to LibCST to decide.
    """
    import libcst as cst

    error = _python_syntax_error(text) if python_error is ... else python_error
    if error is not None and (
        any(reason in error.message for reason in _TOO_DEEP) or _nesting_depth(text) > _MAX_SAFE_NESTING
        or too_long_a_chain(text)
    ):
        raise error
    if too_long_a_chain(text):
        raise SourceError("cannot be analyzed: an expression too long for LibCST's parser")
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        if error is not None:
            raise error from None
        reason = re.sub(r"^parser error: error at \d+:\d+: ", "", exc.message)
        raise SourceError(
            f"cannot be analyzed: Python accepts this file but LibCST's parser does not ({reason})",
            exc.raw_line,
            exc.raw_column + 1,
        ) from None
    except RecursionError:
        raise SourceError("syntax error: too deeply nested to parse") from None


def error_finding(result: FileResult, exc: SourceError) -> FileResult:
    """Mark `result` as failed with an OPT000 finding at the error's position."""
    position = Position(exc.row, exc.column)
    result.findings.append(Finding(result.path, "OPT000", exc.message, position, position, exc.row))
    result.error = True
    return result
