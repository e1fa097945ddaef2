"""optlint's own one-pass name resolution agrees with LibCST's metadata providers.

The providers cost 8-9x a parse, so the checker does not use them; here they are the
reference that the cheap resolver is held to, on every call in every fixture.
"""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, QualifiedNameProvider, QualifiedNameSource

from conftest import static_fixtures
from optlint.analysis.facts import collect_facts
from optlint.analysis.resolve import Resolver, Where
from optlint.checker import decode
from optlint.optimizers import KNOWN_LAST_NAMES


@pytest.mark.parametrize("path", static_fixtures(), ids=lambda p: p.name)
def test_qualnames_match_libcst(path):
    module = cst.parse_module(decode(path.read_bytes()).text)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    reference = wrapper.resolve(QualifiedNameProvider)
    facts = collect_facts(module, KNOWN_LAST_NAMES)
    resolver = Resolver(facts)
    compared = 0
    for site in facts.calls:
        mine = resolver.qualname(site.node.func, Where(site.scope, site.order, site.path))
        value = reference.get(site.node.func, ())
        names = value() if callable(value) else value
        theirs = {q.name for q in names if q.source == QualifiedNameSource.IMPORT}
        if not theirs:
            # Not an import in LibCST's eyes (a local alias, class or builtin): optlint must
            # then not claim an imported name either, unless it followed an alias assignment.
            local = {q.name for q in names}
            if mine is not None and not mine.startswith("<local>") and local:
                assert "." in mine or mine in local or f"builtins.{mine}" in local, (mine, local)
            continue
        assert mine in theirs, (mine, theirs)
        compared += 1
    assert compared >= 1 or path.name in {"shadowing.py", "strings_and_comments.py", "penalties.py"}


def test_aliases_and_shadowing():
    source = (
        "import torch.optim as o\n"
        "from torch.optim import AdamW as AW\n"
        "class SGD: pass\n"
        "def f():\n"
        "    from torch import optim\n"
        "    return optim.SGD, AW, o.Adam, SGD\n"
    )
    source = source.replace("return optim.SGD, AW, o.Adam, SGD", "return optim.SGD(w), AW(w), o.Adam(w), SGD(w)")
    facts = collect_facts(cst.parse_module(source), KNOWN_LAST_NAMES)
    resolver = Resolver(facts)
    names = [resolver.qualname(s.node.func, Where(s.scope, s.order, s.path)) for s in facts.calls]
    assert names == ["torch.optim.SGD", "torch.optim.AdamW", "torch.optim.Adam", "<local>.SGD"]
