"""OPT010's fix for mmengine configs: one key inserted into the ``optim_wrapper`` dict,
``paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0, bypass_duplicate=True)``.

The dict (``dict(...)`` call or ``{...}`` literal) is re-printed by LibCST with one more
argument: every existing argument, comment and line break stays as written; the new one
follows the last, separated as the arguments before it are.
"""

from __future__ import annotations

import ast
import re

from optlint.static.fix.edits import NoFix, RawEdit, RawFix

CAVEAT = (
    "a checkpoint saved before the fix (`resume=True`, `load_from`) holds the optimizer state of one param group; "
    "with paramwise_cfg mmengine builds one group per parameter, so resuming that optimizer state fails"
)


def build_fix(target: ast.AST, paramwise: str) -> RawFix:
    def render(layout, view) -> str:
        # LibCST prints line breaks as "\n": the file's own (CRLF) are put back
        return re.sub(r"\r\n|\r|\n", layout.newline, _render(layout, view))

    def _render(layout, view) -> str:
        import libcst as cst

        node, module, _, _ = view._twin(target)
        if isinstance(node, cst.Call):
            elements, field = list(node.args), "args"
            new = cst.Arg(value=cst.parse_expression(paramwise), keyword=cst.Name("paramwise_cfg"),
                          equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))
            opening = node.whitespace_before_args
        elif isinstance(node, cst.Dict):
            elements, field = list(node.elements), "elements"
            quote = '"'
            for element in elements:
                key = getattr(element, "key", None)
                if isinstance(key, cst.SimpleString):
                    quote = key.quote
                    break
            new = cst.DictElement(cst.SimpleString(f"{quote}paramwise_cfg{quote}"), cst.parse_expression(paramwise))
            opening = node.lbrace.whitespace_after
        else:
            raise NoFix("the optim_wrapper is no dict to insert into")
        if isinstance(node, cst.Call):
            closing_space = elements[-1].whitespace_after_arg if elements else node.whitespace_before_args
        else:
            closing_space = node.rbrace.whitespace_before
        if "#" in cst.Module([]).code_for_node(closing_space):
            raise NoFix("a comment follows the last key of `optim_wrapper`; add paramwise_cfg by hand")
        if not elements:
            return module.code_for_node(node.with_changes(**{field: [new]}))
        last = elements[-1]
        if len(elements) > 1 and isinstance(elements[-2].comma, cst.Comma):
            between = elements[-2].comma.whitespace_after
        elif isinstance(opening, cst.ParenthesizedWhitespace):
            between = opening
        else:
            between = cst.SimpleWhitespace(" ")
        trailing = last.comma
        if isinstance(trailing, cst.Comma) and isinstance(trailing.whitespace_after, cst.ParenthesizedWhitespace) \
                and isinstance(between, cst.ParenthesizedWhitespace):
            # one element a line: the old last keeps its comma and comment, the new one the
            # line break before the closing bracket
            after = trailing.whitespace_after
            elements[-1] = last.with_changes(comma=trailing.with_changes(
                whitespace_after=after.with_changes(indent=between.indent, last_line=between.last_line)))
            closing = after.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
            elements.append(new.with_changes(comma=cst.Comma(whitespace_after=closing)))
        else:
            elements[-1] = last.with_changes(comma=cst.Comma(whitespace_after=between))
            elements.append(new.with_changes(comma=trailing))
        return module.code_for_node(node.with_changes(**{field: elements}))

    return RawFix(
        f"add paramwise_cfg={paramwise} to `optim_wrapper`",
        [RawEdit(target, render)],
        applicability="unsafe",
        caveats=[CAVEAT],
    )
