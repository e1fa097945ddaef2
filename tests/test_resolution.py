"""optlint's own one-pass name resolution agrees with LibCST's metadata providers.

The providers cost 8-9x a parse, so the checker does not use them; here they are the
reference that the cheap resolver is held to, on every call in every fixture.
"""

from __future__ import annotations

import ast
import sys

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider, QualifiedNameProvider, QualifiedNameSource

from conftest import static_fixtures
from optlint.static.source import decode
from optlint.static.locate import SourceText
from optlint.static.model.scopes import FileModel
from optlint.static.model.values import Resolver, Where


def _model(text: str):
    model = FileModel(ast.parse(text))
    source = SourceText(text)
    return model, Resolver(model, source), source


@pytest.mark.parametrize("path", static_fixtures(), ids=lambda p: p.name)
def test_qualnames_match_libcst(path):
    text = decode(path.read_bytes()).text
    if "requires: python>=3.12" in text and sys.version_info < (3, 12):
        pytest.skip("newer syntax than this Python's ast")
    module = cst.parse_module(text)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    reference = wrapper.resolve(QualifiedNameProvider)
    positions = wrapper.resolve(PositionProvider)
    # LibCST's callees by where they start, to pair them with the ast model's calls
    by_start = {}
    for node, where in positions.items():
        if isinstance(node, cst.Call):
            by_start.setdefault((where.start.line, where.start.column), node.func)
    model, resolver, source = _model(text)
    compared = 0
    for site in model.calls:
        if not isinstance(site.node.func, (ast.Name, ast.Attribute)):
            continue
        span = source.span(site.node)
        func = by_start.get((span.row, span.column))
        if func is None:
            continue
        mine = resolver.qualname(site.node.func, Where.of_site(site))
        value = reference.get(func, ())
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
    model, resolver, _ = _model(source)
    names = [resolver.qualname(s.node.func, Where.of_site(s)) for s in model.calls]
    assert names == ["torch.optim.SGD", "torch.optim.AdamW", "torch.optim.Adam", "<local>.SGD"]
