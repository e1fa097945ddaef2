"""Issue 22's property profile for fixes: generated programs with string literals, loops and
`elif` chains around optimizer calls (tests/fix_programs.py). Every fix keeps the text of
every statement it does not edit and every string literal, and the fixed file compiles;
run beside the original (the differential harness, test_fix_dependents.py), every
parameter stays in a group with its lr, clipping and training, only vectors' decay changes.
"""

from __future__ import annotations

import ast
import collections
import dataclasses

import pytest

from fix_programs import program
from optlint.config import FileConfig, resolve_settings
from optlint.static.apply_fixes import fix_text
from optlint.static.checker import check_text

SETTINGS = dataclasses.replace(resolve_settings(FileConfig()), fix=True, unsafe_fixes=True)


def fix(text: str):
    result = check_text("generated.py", text, SETTINGS)
    fixed, _, count = fix_text("generated.py", text, result, SETTINGS)
    return result, fixed, count


def strings(tree) -> collections.Counter:
    return collections.Counter(n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str))


def untouched_statements(text: str, findings) -> list[str]:
    """Source of each simple statement on rows no applied edit touches."""
    rows = set()
    for finding in findings:
        for edit in (finding.fix or {}).get("edits", ()):
            rows.update(range(edit["location"]["row"], edit["end_location"]["row"] + 1))
    tree = ast.parse(text)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not hasattr(node, "body") and not rows & set(range(node.lineno, node.end_lineno + 1)):
            out.append(ast.get_source_segment(text, node))
    return out


def check_program(seed: int) -> int:
    text = program(seed)
    result, fixed, count = fix(text)
    compile(fixed, f"seed {seed}", "exec")
    before, after = strings(ast.parse(text)), strings(ast.parse(fixed))  # a fix adds keys ("params"), never changes one
    assert all(after[s] >= n for s, n in before.items()), f"seed {seed}: a string literal changed"
    kept = collections.Counter(untouched_statements(text, [f for f in result.findings if f.fix]))
    for statement, times in kept.items():
        assert fixed.count(statement) >= times, f"seed {seed}: lost {statement!r}"
    return count


def test_generated_fixes_keep_other_statements_and_string_literals():
    fixed = sum(check_program(seed) > 0 for seed in range(20))
    assert fixed >= 10  # the generator reaches fixes, not only withheld ones


@pytest.mark.slow
def test_generated_fixes_keep_other_statements_and_string_literals_many():
    for seed in range(20, 400):
        check_program(seed)
