"""The flow model decides findings by what reaches an optimizer: contrasts that differ in one fact.

Each test holds a pattern that real training code uses next to its variant that is a bug, so
both the silence and the finding are asserted (a rule that stops firing fails as surely as
one that fires on the right code).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given

from conftest import FIXTURES, check_text
from optlint.static.apply_fixes import apply_edits, compile_problem, fix_text
from optlint.static.linter import check_source
from optlint.config import FileConfig, resolve_settings


def codes(source: str, select=("ALL",)) -> list[tuple[int, str]]:
    return sorted((f.location.row, f.code) for f in check_text(textwrap.dedent(source), select))


def messages(source: str, code: str) -> list[str]:
    return [f.message for f in check_text(textwrap.dedent(source)) if f.code == code]


# -- OPT001 ------------------------------------------------------------------------------


PEFT = """
    import torch
    from peft import LoraConfig, get_peft_model
    model = get_peft_model(base, LoraConfig(r=8{extra}))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
"""


def test_lora_trains_adapters_only_unless_its_config_trains_biases():
    assert codes(PEFT.format(extra="")) == []
    assert codes(PEFT.format(extra=', bias="all"')) == [(5, "OPT001")]
    assert codes(PEFT.format(extra=', modules_to_save=["classifier"]')) == [(5, "OPT001")]


FROZEN = """
    import torch
    {freeze}
    opt = torch.optim.AdamW(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-4)
"""


@pytest.mark.parametrize(
    "freeze",
    ["model.requires_grad_(False)\nmodel.add_adapter(cfg)", "for p in model.parameters():\n    p.requires_grad = False"],
)
def test_a_frozen_base_is_not_decayed(freeze):
    assert codes(FROZEN.format(freeze=textwrap.indent(freeze, "    ").strip())) == []


def test_freezing_a_submodule_leaves_the_rest_decayed():
    # the head (biases included) still trains at AdamW's default decay
    assert codes(FROZEN.format(freeze="model.backbone.requires_grad_(False)")) == [(4, "OPT001")]


def test_an_in_file_splitter_is_never_an_optimizer():
    source = """
        import torch
        def exclude_from_wd(named_params, weight_decay=1e-5):
            decay, no_decay = [], []
            for name, param in named_params:
                (no_decay if param.ndim <= 1 else decay).append(param)
            return [{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": weight_decay}]
        groups = exclude_from_wd(model.named_parameters(), weight_decay=0.05)
        opt = torch.optim.AdamW(groups, lr=1e-3)
    """
    assert codes(source) == []


def test_a_factory_that_decays_everything_is_reported_at_its_call():
    source = """
        import torch
        def make(params, wd=0.05):
            return torch.optim.AdamW(params, weight_decay=wd)
        opt = make(model.parameters())
        quiet = make([p for p in model.parameters() if p.ndim >= 2])
    """
    assert codes(source) == [(5, "OPT001")]
    assert "built by `make()`" in messages(source, "OPT001")[0]


def test_a_helper_that_builds_over_its_own_module_is_reported_once_where_it_is_written():
    source = """
        import torch
        def build(model):
            return torch.optim.AdamW(model.parameters())
        opt = build(net)
    """
    assert codes(source) == [(4, "OPT001")]


def test_hyperparameter_defaults_of_main_local_args_resolve():
    source = """
        import argparse, torch
        def parse_args():
            p = argparse.ArgumentParser()
            p.add_argument("--wd", type=float, default=0.0)
            return p.parse_args()
        def main():
            args = parse_args()
            return torch.optim.AdamW(model.parameters(), weight_decay=args.wd)
    """
    (message,) = messages(source, "OPT001")
    assert "weight_decay=0.0 from the --wd default, which can be changed at run time" in message


def test_only_the_arm_that_decays_is_reported_and_named():
    source = """
        import torch
        cls = torch.optim.AdamW if use_adamw else torch.optim.SGD
        opt = cls(model.parameters(), lr=0.1)
    """
    (message,) = messages(source, "OPT001")
    assert message.startswith("AdamW (`cls` may be AdamW)")


def test_hostile_constants_are_not_folded():
    # issue 12 item 6: bounded folding, the value is simply not statically known
    for value in ("9**9**9", "10**5000", "2**10000 * 1.0"):
        (message,) = messages(f"import torch\nopt = torch.optim.SGD(m.parameters(), lr=0.1, weight_decay={value})\n", "OPT001")
        assert "not statically known" in message


# -- OPT002 ------------------------------------------------------------------------------


def test_name_tests_that_feed_no_group_of_different_decay_are_silent():
    source = """
        import torch
        for n, p in model.named_parameters():
            if "bias" in n:
                p.grad = None
        keep = [p for n, p in model.named_parameters() if "bias" not in n]
        opt = torch.optim.AdamW(keep, lr=1e-3, weight_decay=0.01)
    """
    assert codes(source) == [(7, "OPT001")] or codes(source) == []
    assert not messages(source, "OPT002")


def test_a_one_sided_name_filter_gets_no_fix_that_would_drop_parameters():
    source = """
        import torch
        decay = [p for n, p in model.named_parameters() if "bias" not in n]
        rest = [p for n, p in model.named_parameters() if p.ndim < 2]
        opt = torch.optim.AdamW([{"params": decay}, {"params": rest, "weight_decay": 0.0}])
    """
    (finding,) = [f for f in check_text(textwrap.dedent(source)) if f.code == "OPT002"]
    assert finding.fix is None and "no automatic fix" in finding.message


def test_the_complementary_split_is_fixed_on_both_sides():
    source = textwrap.dedent("""
        import torch
        nd = ["bias", "LayerNorm.weight"]
        opt = torch.optim.AdamW([
            {"params": [p for n, p in m.named_parameters() if not any(x in n for x in nd)], "weight_decay": 0.01},
            {"params": [p for n, p in m.named_parameters() if any(x in n for x in nd)], "weight_decay": 0.0},
        ])
    """)
    found = [f for f in check_text(source) if f.code == "OPT002"]
    # one decision, one finding (at the first test), with one fix for both halves
    assert [(f.location.row, f.fix is not None) for f in found] == [(5, True)]
    assert "(and its complement on line 6)" in found[0].message
    fixed, _ = apply_edits(source, found)
    # the shape test joins the name test (what the names kept undecayed stays undecayed)
    assert "if p.squeeze().ndim >= 2 and not any(x in n for x in nd)]" in fixed
    assert "if p.squeeze().ndim < 2 or any(x in n for x in nd)]" in fixed
    assert "nd = [" in fixed  # the word list is never deleted
    compile(fixed, "fixed.py", "exec")


def test_position_tables_by_name_are_policy_not_a_mistake():
    source = """
        import torch
        rel = [p for n, p in m.named_parameters() if "relative_position_bias_table" in n]
        rest = [p for n, p in m.named_parameters() if "relative_position_bias_table" not in n]
        opt = torch.optim.AdamW([{"params": rest}, {"params": rel, "weight_decay": 0.0}])
    """
    assert not messages(source, "OPT002")


# -- OPT004 / OPT006 / OPT008 ---------------------------------------------------------------


def test_a_penalty_counts_only_when_it_reaches_the_loss():
    logged = "import torch\nl2 = sum(p.pow(2).sum() for p in model.parameters())\nlog(l2)\nloss.backward()\n"
    used = "import torch\nl2 = sum(p.pow(2).sum() for p in model.parameters())\n(loss + 1e-4 * l2).backward()\n"
    assert codes(logged) == []
    assert codes(used) == [(2, "OPT004")]


def test_group_keys_typos_and_unread_keys_are_reported_read_keys_are_not():
    source = """
        import torch
        opt = torch.optim.SGD([{"params": a, "weight_deacy": 0.0}, {"params": b, "mystery": 1}, {"params": c, "fix_lr": 1}], lr=0.1)
        for g in opt.param_groups:
            g["lr"] *= 0 if g["fix_lr"] else 1
    """
    found = messages(source, "OPT006")
    assert len(found) == 2
    assert "did you mean 'weight_decay'" in found[0]
    assert "mystery" in found[1] and "did you mean" not in found[1]


def test_an_iterator_used_once_per_exclusive_branch_is_fine_twice_on_one_path_is_not():
    branches = """
        import torch
        params = model.parameters()
        if kind == "sgd":
            opt = torch.optim.SGD(params, lr=0.1)
        else:
            opt = torch.optim.Adam(params)
    """
    sequence = """
        import torch
        params = model.parameters()
        if verbose:
            print(sum(p.numel() for p in params))
        opt = torch.optim.SGD(params, lr=0.1)
    """
    assert codes(branches) == []
    assert codes(sequence) == [(6, "OPT008")]


# -- the fix contract ----------------------------------------------------------------------

FIXING = resolve_settings(FileConfig(), ["ALL"])


def _fix_only_reported(path: str, source: str) -> None:
    """--fix applies exactly the fixes of reported findings: one pass of them gives the
    same file unless two fixes overlapped, and never more fixes than were reported."""
    first = check_source(path, source.encode("utf-8"), FIXING)
    fixable = [f for f in first.findings if f.fix is not None and FIXING.applies(f)]
    fixed, _, count = fix_text(path, source, first, FIXING)
    assert count <= len(fixable)
    once, taken = apply_edits(source, fixable)
    if taken == len(fixable) and compile_problem(once) is None:
        assert fixed == once


FIXTURE_FILES = sorted(p for p in FIXTURES.rglob("*.py") if "bad" not in p.parts and "expected" not in p.parts)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fix_applies_only_reported_fixes_on_every_fixture(path: Path):
    raw = path.read_bytes()
    try:
        source = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pytest.skip("not UTF-8 (encodings are covered by the fix snapshots)")
    _fix_only_reported(path.name, source)


def test_fix_never_rewrites_a_freezing_loop():
    source = (
        "import torch\n\n\ndef freeze(model):\n    for name, param in model.named_parameters():\n"
        '        if "head" not in name:\n            param.requires_grad = False\n\n\n'
        "opt = torch.optim.AdamW(model.parameters(), lr=1e-3)\n"
    )
    first = check_source("f.py", source.encode(), FIXING)
    fixed, _, _ = fix_text("f.py", source, first, FIXING)
    assert '        if "head" not in name:\n            param.requires_grad = False\n' in fixed
    assert "p.squeeze().ndim < 2" in fixed  # the optimizer itself was fixed


from test_properties import snippets  # noqa: E402  (the generator of optimizer calls)


@given(snippets())
def test_fix_applies_only_reported_fixes_on_generated_programs(source):
    _fix_only_reported("snippet.py", source)


def test_fixed_vit_script_passes_the_runtime_check(tmp_path):
    # issue 13 item 5: the static fix and the runtime check agree on a fixed script
    pytest.importorskip("torch")
    import runpy
    import shutil

    from click.testing import CliRunner

    import optlint
    from optlint.cli import main

    target = tmp_path / "vit_tokens.py"
    shutil.copyfile(FIXTURES / "fix" / "vit_tokens.py", target)
    before = runpy.run_path(str(target))
    with pytest.raises(optlint.OptimizerConfigError):
        optlint.assert_optimizer(before["optimizer"], before["model"])
    result = CliRunner().invoke(main, ["check", "--fix", "-q", str(target)])
    assert result.exit_code == 0, result.output
    after = runpy.run_path(str(target))
    optlint.assert_optimizer(after["optimizer"], after["model"])


def test_groups_split_by_name_for_lr_that_together_decay_everything():
    source = """
        import torch
        backbone = [p for n, p in model.named_parameters() if "backbone" in n and p.requires_grad]
        head = [p for n, p in model.named_parameters() if "backbone" not in n and p.requires_grad]
        opt = torch.optim.AdamW([{"params": head}, {"params": backbone, "lr": 1e-5}], lr=1e-4, weight_decay={wd})
    """
    (message,) = messages(source.replace("{wd}", "1e-4"), "OPT001")
    assert message.startswith("param groups 0 and 1 of AdamW are split by name")
    assert codes(source.replace("{wd}", "0.0")) == []


def test_a_filter_both_groups_share_decides_nothing():
    source = """
        import torch
        nd = ["bias", "LayerNorm.weight"]
        opt = torch.optim.AdamW([
            {"params": [p for n, p in m.named_parameters() if "highway" in n and not any(x in n for x in nd)], "weight_decay": 0.01},
            {"params": [p for n, p in m.named_parameters() if "highway" in n and any(x in n for x in nd)], "weight_decay": 0.0},
        ])
    """
    found = [f for f in check_text(textwrap.dedent(source)) if f.code == "OPT002"]
    assert len(found) == 1 and all("highway" not in f.message.split("`")[1] for f in found)


def test_a_branch_that_returns_ends_the_path():
    source = """
        import torch
        def build(model, kind):
            params = model.parameters()
            if kind == "sgd":
                return torch.optim.SGD(params, lr=0.1)
            return torch.optim.Adam(params)
    """
    assert codes(source) == []


def test_peft_through_helpers_moves_and_rebinding_is_still_adapters_only():
    source = """
        import torch
        from peft import LoraConfig, get_peft_model
        def make(base):
            return get_peft_model(base, LoraConfig(r=4))
        a = make(base).to("cuda")
        a = torch.compile(a)
        opt = torch.optim.AdamW(a.parameters(), lr=1e-4)
    """
    assert codes(source) == []


def test_peft_applied_on_one_branch_only_leaves_the_other_path_training_everything():
    source = """
        import torch
        from peft import LoraConfig, get_peft_model
        if use_lora:
            unet = get_peft_model(unet, LoraConfig(r=4))
        opt = torch.optim.AdamW(unet.parameters(), lr=1e-4)
    """
    assert codes(source) == [(6, "OPT001")]


def test_a_module_frozen_then_unfrozen_trains_in_full():
    source = """
        import torch
        controlnet.requires_grad_(False)
        controlnet.requires_grad_(True)
        opt = torch.optim.AdamW(controlnet.parameters(), lr=1e-4)
    """
    assert codes(source) == [(5, "OPT001")]


def test_peft_task_heads_and_ln_tuning_train_biases():
    for config in ('LoraConfig(r=4, task_type="SEQ_CLS")', "LNTuningConfig()"):
        source = f"import torch\nfrom peft import get_peft_model\nm = get_peft_model(base, {config})\nopt = torch.optim.AdamW(m.parameters())\n"
        assert codes(source) == [(4, "OPT001")], config


def test_an_embedding_table_alone_is_decayed_by_policy():
    source = "import torch\nopt = torch.optim.AdamW(text_encoder.get_input_embeddings().parameters(), lr=5e-4)\n"
    assert codes(source) == []


def test_a_decay_path_chosen_by_the_decay_itself_is_not_reported():
    source = """
        import torch
        def create(model, weight_decay=0.05, filter_bias_and_bn=True):
            if weight_decay and filter_bias_and_bn:
                parameters = split(model)
                weight_decay = 0.0
            else:
                parameters = model.parameters()
            return torch.optim.SGD(parameters, lr=0.1, weight_decay=weight_decay)
    """
    assert codes(source) == []


def test_name_groups_negated_by_de_morgan_still_cover_everything():
    source = """
        import torch
        head = [p for n, p in m.named_parameters() if ("classifier" in n or "score" in n) and p.requires_grad]
        rest = [p for n, p in m.named_parameters() if ("classifier" not in n and "score" not in n) and p.requires_grad]
        opt = torch.optim.AdamW([{"params": head, "lr": 5e-3}, {"params": rest}], weight_decay=5e-3)
    """
    assert codes(source) == [(5, "OPT001")]


def test_held_out_patterns():
    # lit-llama: a helper that freezes all but the adapters
    frozen = """
        import torch
        mark_only_adapter_as_trainable(model)
        opt = torch.optim.AdamW(model.parameters(), lr=9e-3, weight_decay=0.02)
    """
    assert codes(frozen) == []
    # loralib with bias="all" keeps biases trainable
    assert codes(frozen.replace("mark_only_adapter_as_trainable(model)", 'mark_only_lora_as_trainable(model, bias="all")')) == [(4, "OPT001")]
    # a helper that returns the parameters is followed, and the argument is named
    helper = """
        from torch.optim import AdamW
        def get_trainable(m):
            return m.parameters()
        def coord_check(model, lr=1e-3):
            return AdamW(get_trainable(model), lr=lr)
    """
    (message,) = messages(helper, "OPT001")
    assert "every parameter of `model`" in message
    # a custom key handed to a scheduler of another module may be read there
    escaping = """
        import torch
        from schedulers import CosineWDSchedule
        def init_opt(a, b):
            optimizer = torch.optim.AdamW([{"params": a}, {"params": b, "WD_exclude": True, "weight_decay": 0}])
            return optimizer, CosineWDSchedule(optimizer)
    """
    assert codes(escaping) == []
    # a name set that a loop tests membership in, and a list chosen by an if-expression
    membership = """
        import torch
        def build(model, weight_decay=0.01):
            skip = {n for n, _ in model.named_parameters() if "bias" in n or "norm" in n}
            decay, no_decay = [], []
            for name, p in model.named_parameters():
                (no_decay if name in skip else decay).append(p)
            return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}])
    """
    assert codes(membership) == [(4, "OPT002")]


# -- issue 19: models with nothing to protect, exact name splits, messages -----------------------


MATRICES_ONLY = """
    import torch
    from torch import nn

    class TransE(nn.Module):
        def __init__(self, num_entities, num_relations, dim=200):
            super().__init__()
            self.num_entities = num_entities
            self.ent = nn.Embedding(num_entities, dim)
            self.rel = nn.Embedding(num_relations, dim)
            self.proj = nn.Linear(dim, dim, bias=False)
            self.table = nn.Parameter(torch.randn(num_entities, dim) * 0.02)
            self.drop = nn.Dropout(0.1)
            {extra}

    model = TransE(100, 10).to("cuda")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
"""


@pytest.mark.parametrize("extra", [
    "self.norm = nn.LayerNorm(dim)",  # a norm: weight and bias vectors
    "self.head = nn.Linear(dim, 1)",  # a bias
    "self.cls = nn.Parameter(torch.zeros(1, 1, dim))",  # one dimension larger than 1: a vector
    "self.enc = AutoModel.from_pretrained('bert-base-uncased')",  # a module optlint cannot read
    "self.sub = sub_module",  # a module handed in
    "self.seq = nn.Sequential(nn.Embedding(num_entities, dim), nn.LayerNorm(dim))",  # a norm in a container
])
def test_a_model_of_matrices_only_has_nothing_to_protect(extra):
    assert codes(MATRICES_ONLY.format(extra="")) == []
    assert codes(MATRICES_ONLY.format(extra=extra)) == [(17, "OPT001")]


def test_a_module_handed_to_a_container_is_not_a_size():
    source = """
        import torch
        from torch import nn
        class Wrap(nn.Module):
            def __init__(self, encoder, d):
                super().__init__()
                self.seq = nn.Sequential(encoder, nn.Linear(d, d, bias=False))
        opt = torch.optim.AdamW(Wrap(enc, 8).parameters(), lr=1e-3)
    """
    assert codes(source) == [(8, "OPT001")]
    assert codes(source.replace("(encoder, nn.Linear", "(nn.Embedding(d, d), nn.Linear")) == []


def test_a_matrices_only_model_given_a_head_from_outside_is_still_reported():
    source = MATRICES_ONLY.format(extra="") + '    model.head = nn.Linear(200, 2)\n'
    assert codes(source) == [(17, "OPT001")]


def test_a_lightning_module_of_bias_free_blocks_is_silent_with_biases_it_is_not():
    source = """
        import torch
        import lightning as L
        from torch import nn
        class Lit(L.LightningModule):
            def __init__(self, n, d):
                super().__init__()
                self.emb = nn.Embedding(n, d)
                self.blocks = nn.ModuleList([nn.Linear(d, d, bias=False) for _ in range(4)])
            def configure_optimizers(self):
                return torch.optim.AdamW(self.parameters(), lr=1e-3, weight_decay=0.1)
    """
    assert codes(source) == []
    assert codes(source.replace("nn.Linear(d, d, bias=False)", "nn.Linear(d, d)")) == [(11, "OPT001")]


EXACT_SPLIT = """
    import torch
    from torch import nn

    class Layer(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.dense = nn.Linear(d, d)
            self.LayerNorm = nn.LayerNorm(d, eps=1e-12)

    class Encoder(nn.Module):
        def __init__(self, vocab, d, n):
            super().__init__()
            self.word_embeddings = nn.Embedding(vocab, d)
            self.layer = nn.ModuleList([Layer(d) for _ in range(n)])
            self.{norm} = nn.LayerNorm(d)

    model = {model}
    no_decay = ["bias", "LayerNorm.weight"]
    grouped = [
        {{"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)], "weight_decay": 0.01}},
        {{"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0}},
    ]
    optimizer = torch.optim.AdamW(grouped, lr=5e-5)
"""


def test_a_name_split_exact_for_the_model_the_file_builds_is_not_a_finding():
    built = "Encoder(30522, 768, 12)"
    assert codes(EXACT_SPLIT.format(norm="LayerNorm", model=built)) == []
    # a norm the words miss
    assert codes(EXACT_SPLIT.format(norm="ln_f", model=built)) == [(21, "OPT002")]
    # the model is chosen at run time
    assert codes(EXACT_SPLIT.format(norm="LayerNorm", model="AutoModel.from_pretrained(name)")) == [(21, "OPT002")]


def test_opt001_names_every_group_that_decays_a_whole_module():
    source = """
        import torch
        opt = torch.optim.AdamW([
            {"params": model.backbone.parameters(), "weight_decay": 0.0},
            {"params": model.head.parameters()},
            {"params": model.neck.parameters(), "weight_decay": 0.1},
        ], lr=1e-3)
    """
    (message,) = messages(source, "OPT001")
    assert message.startswith("param groups 1 and 2 of AdamW decay every parameter of `model.head`, `model.neck`")
    assert "weight_decay=0.01 from AdamW's default (group 1), weight_decay=0.1 (group 2)" in message
    (message,) = messages(source.replace('"weight_decay": 0.1', '"weight_decay": 0.0'), "OPT001")
    assert message.startswith("param group 1 of AdamW decays every parameter of `model.head`,")
    assert "model.backbone" not in message


def test_opt000_for_a_bad_unicode_escape_says_what_is_wrong(tmp_path, settings_all):
    from optlint.static.linter import check_path

    bad = tmp_path / "bad_escape.py"
    # (the file is parsed only when some rule could fire on it: it builds an optimizer)
    bad.write_text('import torch\nopt = torch.optim.AdamW(m.parameters())\nwrong = "\\u12"\n', encoding="utf-8")
    result = check_path(str(bad), settings_all)
    (finding,) = result.findings
    assert (finding.code, finding.location.row) == ("OPT000", 3)
    assert "invalid escape" in finding.message and "truncated \\uXXXX escape" in finding.message
    assert "newer" not in finding.message
    # newer syntax is still called that
    newer = tmp_path / "newer.py"
    newer.write_text("import torch\nopt = torch.optim.AdamW(m.parameters())\ntype Alias = int\n", encoding="utf-8")
    result = check_path(str(newer), settings_all)
    assert all("invalid escape" not in f.message for f in result.findings)


COUPLED = """
    from timm.optim import {cls}
    opt = {cls}(model_params, lr=1e-3, weight_decay=1e-4{extra})
"""


@pytest.mark.parametrize("cls,extra,reported", [
    ("Nadam", "", True),  # timm's own Nadam (NAdamLegacy since 1.0.12): grad += wd * p
    ("NAdamLegacy", "", True),
    ("Adopt", "", True),  # coupled unless decoupled=True
    ("Adopt", ", decoupled=True", False),
    ("AdamP", "", False),  # scales the parameter itself: decoupled
    ("RAdamLegacy", "", False),  # p += -wd * lr * p: decoupled
    ("Adam", "", True),  # torch's Adam, re-exported by timm.optim
])
def test_opt003_covers_third_party_coupled_adam(cls, extra, reported):
    found = messages(COUPLED.format(cls=cls, extra=extra), "OPT003")
    assert bool(found) == reported
    for message in found:  # one sentence: the decay after a colon, the advice after a semicolon
        assert message.count(";") == 1 and "(coupled, not decoupled weight decay): weight_decay=1e-4;" in message


def test_opt003_third_party_classes_pass_the_prefilter():
    source = "from torch_optimizer import Yogi\nopt = Yogi(w, lr=1e-2, weight_decay=1e-4)\n"
    assert codes(source) == [(2, "OPT003")]
    assert codes(source.replace("Yogi", "AdaMod")) == []  # AdaMod decays the parameter itself


UNFREEZE = """
    import torch
    model.requires_grad_(False)
    {unfreeze}
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
"""


@pytest.mark.parametrize("unfreeze,reported", [
    ("model.add_adapter(cfg)", False),  # frozen, adapters added: adapters only
    ("for p in model.final_norm.parameters():\n    p.requires_grad = True", True),
    ("for p in model.layers[-1].parameters():\n    p.requires_grad = True", True),
    ("model.layers[-1].requires_grad_(True)", True),
    # freeze all, unfreeze only the norms: the trained set is all vectors
    ("for n, p in model.named_parameters():\n    if 'norm' in n:\n        p.requires_grad = True", True),
    ("for n, p in model.named_parameters():\n    p.requires_grad = 'norm' in n or 'head' in n", True),
    # adapters switched on by name, or a test optlint cannot read: adapters only / unknown
    ("for n, p in model.named_parameters():\n    if 'lora_' in n:\n        p.requires_grad = True", False),
    ("for n, p in model.named_parameters():\n    if n in trainable:\n        p.requires_grad = True", False),
])
def test_modules_unfrozen_after_the_freeze_train_their_vectors(unfreeze, reported):
    source = UNFREEZE.format(unfreeze=textwrap.indent(unfreeze, "    ").strip())
    found = [code for _, code in codes(source)]
    assert found == (["OPT001"] if reported else [])


CONFIG_DEFAULT = """
    import torch
    from dataclasses import dataclass

    @dataclass
    class TrainConfig:
        lr: float = 1e-3
        weight_decay: float = {wd}

    cfg = TrainConfig(lr=3e-4)
    {extra}
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
"""


def test_a_config_field_default_nothing_changes_is_a_constant():
    assert codes(CONFIG_DEFAULT.format(wd="0.0", extra="")) == []
    (message,) = messages(CONFIG_DEFAULT.format(wd="0.1", extra=""), "OPT001")
    assert "weight_decay=0.1 from TrainConfig.weight_decay;" in message and "run time" not in message


@pytest.mark.parametrize("extra", [
    "cfg.weight_decay = args.wd",  # overridden in the file
    "parser = HfArgumentParser(TrainConfig)",  # the class is handed to a command-line parser
    "apply_overrides(cfg, sys.argv)",  # the instance is handed to code that may change it
    "setattr(cfg, key, value)",
])
def test_a_config_field_that_something_may_change_is_not_a_constant(extra):
    (message,) = messages(CONFIG_DEFAULT.format(wd="0.0", extra=extra), "OPT001")
    assert "weight_decay=0.0 from TrainConfig.weight_decay, which can be changed at run time" in message
    source = CONFIG_DEFAULT.format(wd="0.0", extra="").replace("TrainConfig(lr=3e-4)", "TrainConfig(**vars(args))")
    assert codes(source) == [(12, "OPT001")]


PER_PARAMETER = """
    import torch
    groups = []
    for n, p in model.named_parameters():
        {body}
    opt = torch.optim.AdamW(groups, lr=1e-3)
"""


@pytest.mark.parametrize("body,expected", [
    # every parameter in a group of its own, all decayed alike: the groups sum to the module
    ('groups.append({"params": [p], "lr": 1e-3 * (0.5 if "backbone" in n else 1.0), "weight_decay": 0.05})', "OPT001"),
    ('groups += [{"params": [p]}]', "OPT001"),  # AdamW's default decay
    # a name test picks each group's decay: a name split
    ('wd = 0.0 if "bias" in n else 0.05\n'
     'groups.append({"params": [p], "weight_decay": wd})', "OPT002"),
    ('if "bias" in n or "norm" in n:\n    groups.append({"params": [p], "weight_decay": 0.0})\n'
     'else:\n    groups.append({"params": [p], "weight_decay": 0.05})', "OPT002"),
    # the shape decides, or a filter leaves parameters out: nothing to report
    ('wd = 0.0 if p.ndim < 2 else 0.05\ngroups.append({"params": [p], "weight_decay": wd})', None),
    ('if "head" in n:\n    continue\ngroups.append({"params": [p], "weight_decay": 0.05})', None),
    ('groups.append({"params": [p], "weight_decay": 0.0})', None),
])
def test_per_parameter_group_loops_are_summed(body, expected):
    found = [code for _, code in codes(PER_PARAMETER.format(body=textwrap.indent(body, "        ").strip()))]
    assert found == ([expected] if expected else [])


DEEPSPEED = """
    import deepspeed
    no_decay = ["bias", "LayerNorm.weight"]
    groups = [
        {{"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)], "weight_decay": {wd}}},
        {{"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0}},
    ]
    engine, optimizer, _, _ = deepspeed.initialize(args=args, model=model, model_parameters={params})
"""


def test_a_name_split_handed_to_deepspeed_is_a_name_split():
    assert codes(DEEPSPEED.format(wd="args.weight_decay", params="groups")) == [(5, "OPT002")]
    # the split decides nothing when both groups get the same decay
    assert codes(DEEPSPEED.format(wd="0.0", params="groups")) == []
    # every parameter handed over: the decay is in DeepSpeed's config, not in the file
    assert codes(DEEPSPEED.format(wd="0.0", params="model.parameters()")) == []


HF_NAMES = """
    import torch
    from torch import nn
    from transformers.trainer_pt_utils import get_parameter_names
    decay_parameters = get_parameter_names(model, [nn.LayerNorm])
    decay_parameters = [name for name in decay_parameters if {test}]
    groups = [
        {{"params": [p for n, p in model.named_parameters() if n in decay_parameters], "weight_decay": 0.01}},
        {{"params": [p for n, p in model.named_parameters() if n not in decay_parameters], "weight_decay": 0.0}},
    ]
    opt = torch.optim.AdamW(groups, lr=1e-4)
"""


def test_hf_get_parameter_names_lists_are_parameter_names():
    assert codes(HF_NAMES.format(test='"bias" not in name')) == [(6, "OPT002")]
    assert codes(HF_NAMES.format(test='not name.startswith("head.")')) == []  # not a name split by role


PATHS = """
    import torch
    if {test}:
        params = split(model)
        {split_decay}
    else:
        params = model.parameters()
        {plain_decay}
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay={decay})
"""


@pytest.mark.parametrize("test,split_decay,plain_decay,decay,reported", [
    # a flag whose name mentions decay proves nothing: the unsplit path decays at args.weight_decay
    ("args.no_decay_on_bias", "pass", "pass", "args.weight_decay", True),
    # the test reads the decay itself: the unsplit path runs without decay
    ("args.weight_decay > 0", "pass", "pass", "args.weight_decay", False),
    ("args.weight_decay and args.filter_bias_and_bn", "pass", "pass", "args.weight_decay", False),
    # the decay computed on each path decides, whatever the flag is called
    ("args.use_groups", "wd = 0.05", "wd = 0.0", "wd", False),
    ("args.use_groups", "wd = 0.0", "wd = 0.05", "wd", True),
])
def test_paths_are_decided_by_the_decay_computed_there(test, split_decay, plain_decay, decay, reported):
    source = PATHS.format(test=test, split_decay=split_decay, plain_decay=plain_decay, decay=decay)
    assert [code for _, code in codes(source)] == (["OPT001"] if reported else [])
