"""Each rule's VALID and INVALID examples (its docs) are also its tests."""

from __future__ import annotations

import pytest

from conftest import check_text
from optlint.registry import all_rules

STATIC = [rule for rule in all_rules().values() if rule().is_static]
CASES = [(rule, src, True) for rule in STATIC for src in rule.INVALID] + [
    (rule, src, False) for rule in STATIC for src in rule.VALID
]


@pytest.mark.parametrize("rule,source,fires", CASES, ids=lambda x: getattr(x, "code", None))
def test_rule_example(rule, source, fires):
    codes = [f.code for f in check_text(source, path=getattr(source, "filename", "snippet.py"))]
    assert (rule.code in codes) == fires, (source, codes)


def test_every_static_rule_has_examples_and_docs():
    for rule in STATIC:
        assert rule.VALID and rule.INVALID, rule.code
        page = rule.explain()
        for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
            assert section in page, (rule.code, section)


def test_registry_holds_catalog_codes_in_order():
    codes = list(all_rules())
    assert codes == sorted(codes)
    assert {"OPT000", "OPT001", "OPT003", "OPT006", "OPT101", "OPT102", "OPT103", "OPT104", "OPT105"} <= set(codes)
    names = {code: rule.name for code, rule in all_rules().items()}
    assert names["OPT001"] == "decay-all-params" and names["OPT006"] == "unknown-group-key"
    defaults_off = {code for code, rule in all_rules().items() if not rule.default_enabled}
    assert {"OPT003", "OPT103"} <= defaults_off
