"""Issue 22 items 1-5: fixes that deleted or hid code, or silently changed training.

Each test is named after what it protects, and failed before the fix-dependents rework."""

from __future__ import annotations

import dataclasses
import textwrap

from optlint.config import FileConfig, resolve_settings
from optlint.static.apply_fixes import fix_text
from optlint.static.checker import check_text

SETTINGS = dataclasses.replace(resolve_settings(FileConfig()), fix=True, unsafe_fixes=True)


def fixed(source: str) -> tuple[str, list]:
    source = textwrap.dedent(source)
    result = check_text("train.py", source, SETTINGS)
    text, after, _ = fix_text("train.py", source, result, SETTINGS)
    compile(text, "fixed.py", "exec")
    return text, result.findings


def test_materializing_list_goes_before_the_statement_never_into_a_multiline_string():
    text, _ = fixed('''\
        import torch
        one_shot = make(model).parameters()
        s = """first row
        last row"""; opt = torch.optim.AdamW(one_shot)
        ''')
    assert 's = """first row\nlast row"""; one_shot = list(one_shot); opt = torch.optim.AdamW(' in text


def test_opt002_fix_never_deletes_a_module_level_name():
    text, findings = fixed('''\
        import torch
        NO_DECAY = ["bias", "LayerNorm.weight"]
        groups = [
            {"params": [p for n, p in m.named_parameters() if not any(w in n for w in NO_DECAY)], "weight_decay": 0.01},
            {"params": [p for n, p in m.named_parameters() if any(w in n for w in NO_DECAY)], "weight_decay": 0.0},
        ]
        opt = torch.optim.AdamW(groups, lr=1e-3)
        ''')
    assert any(f.code == "OPT002" and f.fix for f in findings)
    assert 'NO_DECAY = ["bias", "LayerNorm.weight"]' in text  # another module may import it
    assert "p.squeeze().ndim < 2 or any(w in n for w in NO_DECAY)" in text


def test_group_twins_keep_indexes_and_per_group_lambdas_and_a_count_stops_the_fix():
    source = '''\
        import torch
        groups = [{"params": model.backbone.parameters(), "lr": 1e-3}, {"params": model.head.parameters(), "weight_decay": 0.0}]
        opt = torch.optim.AdamW(groups, weight_decay=0.05)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, [f0, f1])
        groups[1]["lr"] = 0.5
        opt.param_groups[1]["lr"] *= 0.1
        '''
    text, _ = fixed(source)
    assert "LambdaLR(opt, [f0, f0, f1])" in text  # group 0 became two groups, group 1 moved to 2
    assert 'groups[2]["lr"] = 0.5' in text and 'opt.param_groups[2]["lr"] *= 0.1' in text
    counted, findings = fixed(textwrap.dedent(source) + "n = len(opt.param_groups)\n")
    assert counted == textwrap.dedent(source) + "n = len(opt.param_groups)\n"
    assert "no automatic fix: line 7 counts the param groups" in findings[0].message


def test_add_param_group_in_a_one_line_loop_keeps_both_twins_in_the_loop():
    text, _ = fixed('''\
        import torch
        opt = torch.optim.SGD(model.trunk.parameters(), lr=0.1)
        for h in heads: opt.add_param_group({"params": h.parameters(), "weight_decay": 1e-4})
        ''')
    row = text.splitlines()[2]
    assert row.startswith("for h in heads: opt.add_param_group(") and row.count("add_param_group(") == 2
    assert "; opt.add_param_group(" in row


def test_opt002_fix_in_an_elif_chain_never_moves_vectors_to_another_lr():
    source = '''\
        import torch
        nd, head, rest = [], [], []
        for n, p in model.named_parameters():
            if "bias" in n:
                nd.append(p)
            elif "head" in n:
                head.append(p)
            else:
                rest.append(p)
        opt = torch.optim.AdamW([
            {"params": rest, "weight_decay": 0.1},
            {"params": head, "weight_decay": 0.1, "lr": 1e-4},
            {"params": nd, "weight_decay": 0.0},
        ], lr=1e-3)
        '''
    text, findings = fixed(source)
    assert text == textwrap.dedent(source)
    (finding,) = [f for f in findings if f.code == "OPT002"]
    assert finding.fix is None and "no automatic fix: line 12 gives the param groups different `lr` values" in finding.message
