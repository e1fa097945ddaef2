"""Property tests: generated programs never crash the checker, and fixes are always safe."""

from __future__ import annotations

import dataclasses
import io
import re
import tokenize

import hypothesmith
import libcst as cst
from hypothesis import example, given, note, settings
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from optlint.static.apply_fixes import apply_edits, fix_text
from optlint.static.checker import check_text
from optlint.config import FileConfig, resolve_settings

ALL = resolve_settings(FileConfig(), ["ALL"])
# Parse and analyze everything, even text the pre-filter would skip.
UNFILTERED = dataclasses.replace(ALL, prefilter=False)
FIXING = dataclasses.replace(resolve_settings(FileConfig()), fix=True, unsafe_fixes=True)  # every fix, unsafe ones too


def assert_sane(text: str, findings) -> None:
    lines = re.split(r"\r\n|\r|\n", text)  # rows as Python counts them
    for f in findings:
        assert "internal error" not in f.message, f.message
        assert 1 <= f.location.row <= len(lines), f
        assert (f.location.row, f.location.column) <= (f.end_location.row, f.end_location.column), f


@given(hypothesmith.from_grammar())
def test_any_python_program_is_checked_without_internal_error(source):
    result = check_text("generated.py", source, UNFILTERED)
    assert_sane(source, result.findings)
    fixed, _, _ = fix_text("generated.py", source, check_text("generated.py", source, FIXING), FIXING)
    compile(fixed, "fixed.py", "exec")  # --fix output always parses


#: hypothesmith's LibCST-node strategy spends ~0.3 s drawing each module (the check itself
#: is milliseconds): a fifth of the profile's examples keeps the default run within minutes.
LIBCST_MODULES = max(10, hypothesis_settings.default.max_examples // 5)


@settings(max_examples=LIBCST_MODULES)
@given(hypothesmith.from_node(cst.Module))
def test_any_libcst_module_is_checked_without_internal_error(source):
    result = check_text("generated.py", source, UNFILTERED)
    assert_sane(source, result.findings)


# -- optimizer-building snippets -------------------------------------------------------------

OPTIMIZERS = ["AdamW", "SGD", "Adam", "RMSprop", "Adagrad", "Muon", "NAdam", "RAdam", "Adamax"]
IMPORTS = {
    "attr": ("import torch\n", "torch.optim.{name}"),
    "alias": ("import torch.optim as o\n", "o.{name}"),
    "module": ("from torch import optim\n", "optim.{name}"),
    "from": ("from torch.optim import {name}\n", "{name}"),
    "as": ("from torch.optim import {name} as Opt\n", "Opt"),
}
PARAMS = [
    "model.parameters()",
    "self.model.parameters()",
    "list(model.parameters())",
    "filter(lambda q: q.requires_grad, model.parameters())",
    "[p for p in model.parameters() if p.requires_grad]",
    "(p for p in model.parameters())",
    "model.named_parameters()",
    "[p for p in model.parameters() if p.ndim >= 2]",
    "params",
]
DECAYS = ["", "weight_decay=0.05", "weight_decay=0", "weight_decay=WD", "weight_decay=args.wd", "**kw"]


#: Arguments holding f-strings, with brackets and quotes inside them.
FSTRING_ARGS = ['lr=float(f"{WD}")', "lr=float(f\"{WD:.1e}\".strip(')('))", "lr=float(f'{(WD)}' or '(')"]
NEWLINES = ["\n", "\r\n", "\r"]
#: How the arguments of the call are laid out: comment text with brackets must stay comment
#: text, a form feed is whitespace (never a line break) for Python.
LAYOUTS = ["inline", "multiline", "form-feed"]
BRACKET_LAYOUTS = ["comment-brackets"]


def layout_args(args: list[str], layout: str) -> str:
    if layout == "inline":
        return ", ".join(args)
    if layout == "form-feed":
        return "\n\x0c    " + ",\n\x0c    ".join(args) + ",\n\x0c"
    lines = [f"    {arg}," for arg in args]
    if layout == "comment-brackets":
        lines[0] += "  # see x) if f("
        lines.insert(1, "    # all params (yes) ]")
    return "\n" + "\n".join(lines) + "\n"


@st.composite
def snippets(draw, layouts=LAYOUTS):
    name = draw(st.sampled_from(OPTIMIZERS))
    import_line, callee = IMPORTS[draw(st.sampled_from(sorted(IMPORTS)))]
    params = draw(st.sampled_from(PARAMS))
    decay = draw(st.sampled_from(DECAYS))
    grouped = draw(st.booleans())
    extra = draw(st.sampled_from(["", "lr=1e-3", "lr=1e-3, momentum=0.9" if name == "SGD" else "lr=2e-3", *FSTRING_ARGS]))
    if grouped:
        params_arg = f"[{{'params': {params}, 'lr': 0.1}}, {{'params': head.parameters()}}]"
    else:
        params_arg = params
    args = [a for a in (params_arg, extra, decay) if a]
    call = f"{callee.format(name=name)}({layout_args(args, draw(st.sampled_from(layouts)))})"
    comment = draw(st.sampled_from(["", "  # build the optimizer", "  # noqa: OPT001"]))
    nesting = draw(st.sampled_from(["module", "function", "method", "lambda", "return-list"]))
    header = import_line.format(name=name) + "WD = 0.01\nkw = dict(lr=1e-3)\nparams = list(model.parameters())\n"
    if nesting == "module":
        body = f"opt = {call}{comment}\n"
    elif nesting == "function":
        body = f"def build(model, head):\n    # optimizer\n    opt = {call}{comment}\n    return opt\n"
    elif nesting == "method":
        body = f"class Trainer:\n    def configure_optimizers(self):\n        return {call}{comment}\n"
    elif nesting == "lambda":
        body = f"make = lambda: {call}{comment}\n"
    else:
        body = f"def build():\n    return [{call}, None]{comment}\n"
    trailer = draw(st.sampled_from(["", "\n# end of file\n", "x = 1  # untouched\n"]))
    return (header + body + trailer).replace("\n", draw(st.sampled_from(NEWLINES)))


def _outside_edits(text: str, findings) -> str:
    """The text with every fixed range cut out: what must not change."""
    kept, _ = apply_edits(text, [dataclasses.replace(f, fix={**f.fix, "edits": [{**e, "content": "\0"} for e in f.fix["edits"]]}) for f in findings])
    return kept


def _comments(text: str) -> list[str]:
    return sorted(t.string for t in tokenize.generate_tokens(io.StringIO(text, newline="").readline) if t.type == tokenize.COMMENT)


@given(snippets())
@example("import torch\nopt = torch.optim.AdamW(model.parameters())\n")
@example("import torch\ropt = torch.optim.AdamW(\r\x0c    model.parameters(),\r\x0c    lr=float(f\"{WD:.1e}\".strip(')(')),\r\x0c)\r")
def test_fix_parses_is_idempotent_and_stays_inside_the_call(source):
    assert_fix_is_safe(source)


@given(snippets(layouts=BRACKET_LAYOUTS))
@example("import torch\nopt = torch.optim.AdamW(\n    model.parameters(),  # see x) if f(\n    # all params (yes) ]\n    lr=1e-3,\n)\n")
def test_fix_keeps_comments_with_brackets_inside_the_call(source):
    assert_fix_is_safe(source)


def assert_fix_is_safe(source: str) -> None:
    note(repr(source))
    first = check_text("snippet.py", source, FIXING)
    assert_sane(source, first.findings)
    fixable = [f for f in first.findings if f.fix is not None and FIXING.applies(f)]
    fixed, result, count = fix_text("snippet.py", source, first, FIXING)
    compile(fixed, "fixed.py", "exec")
    cst.parse_module(fixed)
    # outside the flagged calls nothing changed (one pass: every edit of every fix)
    if fixable and count == len(fixable):
        once, _ = apply_edits(source, fixable)
        assert once == fixed
        pieces = _outside_edits(source, fixable).split("\0")
        position = 0
        for piece in pieces:
            found = fixed.find(piece, position)
            assert found >= 0, piece
            position = found + len(piece)
    # idempotent, and no OPT001 where a fix was applied
    again = check_text("snippet.py", fixed, FIXING)
    assert not [f for f in again.findings if f.code == "OPT001" and f.fix is not None]
    refixed, _, more = fix_text("snippet.py", fixed, again, FIXING)
    assert more == 0 and refixed == fixed
    assert _comments(fixed) == _comments(source)  # every comment kept once, still a comment


@given(snippets())
def test_both_prefilter_stages_lose_nothing_on_generated_snippets(source):
    filtered = check_text("snippet.py", source, ALL).findings
    unfiltered = check_text("snippet.py", source, UNFILTERED).findings
    assert filtered == unfiltered
