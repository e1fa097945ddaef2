"""The runtime checker on the test zoo: each model and pattern with its expected findings."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import optlint  # noqa: E402
from optlint.policy import BIAS, DECAY, EMBEDDING, NORM, ONE_D, TOKEN  # noqa: E402
from zoo import CNN, MLP, TiedLM, ViT, all_models  # noqa: E402


def codes_and_params(findings):
    return sorted((f.code, f.param) for f in findings)


def opt101(findings):
    return sorted(f.param for f in findings if f.code == "OPT101")


def test_adamw_over_all_parameters_reports_biases_and_norms():
    model = CNN()
    findings = optlint.check_optimizer(torch.optim.AdamW(model.parameters()), model)
    assert opt101(findings) == ["bn.bias", "bn.weight", "head.bias"]
    by_param = {f.param: f for f in findings}
    assert by_param["bn.weight"].role == NORM and by_param["head.bias"].role == BIAS
    assert by_param["bn.weight"].group == 0
    assert "weight_decay=0.01" in by_param["head.bias"].message


def test_sgd_without_decay_is_clean():
    model = CNN()
    assert optlint.check_optimizer(torch.optim.SGD(model.parameters(), lr=0.1), model) == []


def test_vit_tokens_layerscale_custom_norm():
    model = ViT()
    roles = {name: info.role for name, info in optlint.classify_parameters(model).items()}
    assert roles["cls_token"] == TOKEN and roles["pos_embed"] == TOKEN
    assert roles["register_tokens"] == TOKEN  # from no_weight_decay()
    assert roles["blocks.0.ln_1.scale"] == NORM  # custom norm class named *Norm
    assert roles["blocks.0.gamma"] == ONE_D
    assert roles["head.weight"] == DECAY and roles["patch_embed.weight"] == DECAY
    findings = optlint.check_optimizer(torch.optim.AdamW(model.parameters()), model)
    assert "cls_token" in opt101(findings) and "head.weight" not in opt101(findings)


def test_transformer_lstm_rmsnorm():
    zoo = all_models()
    names = opt101(optlint.check_optimizer(torch.optim.AdamW(zoo["transformer"].parameters()), zoo["transformer"]))
    assert {"self_attn.in_proj_bias", "norm1.weight", "norm1.bias", "linear1.bias"} <= set(names)
    assert "self_attn.in_proj_weight" not in names
    names = opt101(optlint.check_optimizer(torch.optim.AdamW(zoo["lstm"].parameters()), zoo["lstm"]))
    assert names == ["bias_hh_l0", "bias_ih_l0"]
    roles = optlint.classify_parameters(zoo["lstm"])
    assert roles["bias_ih_l0"].role == BIAS
    names = opt101(optlint.check_optimizer(torch.optim.AdamW(zoo["rmsnorm"].parameters()), zoo["rmsnorm"]))
    assert names == ["0.bias", "1.weight"]


def test_tied_embeddings_are_one_parameter_with_both_names():
    model = TiedLM()
    infos = optlint.classify_parameters(model)
    assert infos["wte.weight"].names == ["wte.weight", "lm_head.weight"]
    assert infos["wte.weight"].role == EMBEDDING  # decayed by default
    assert opt101(optlint.check_optimizer(torch.optim.AdamW(model.parameters()), model)) == ["ln_f.bias", "ln_f.weight"]
    strict = optlint.check_optimizer(torch.optim.AdamW(model.parameters()), model, embedding=True)
    assert "wte.weight" in opt101(strict)


def test_frozen_backbone_and_forgotten_head():
    zoo = all_models()
    model = zoo["frozen"]
    only_trainable = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad])
    assert opt101(optlint.check_optimizer(only_trainable, model)) == ["head.bias"]
    everything = torch.optim.AdamW(model.parameters())
    findings = optlint.check_optimizer(everything, model, select=["OPT101", "OPT103"])
    assert sorted(f.param for f in findings if f.code == "OPT103") == ["backbone.bn.bias", "backbone.bn.weight", "backbone.head.bias"]
    mlp = MLP()
    forgot = torch.optim.SGD(mlp.fc1.parameters(), lr=0.1)
    assert codes_and_params(optlint.check_optimizer(forgot, mlp)) == [("OPT102", "fc2.bias"), ("OPT102", "fc2.weight")]


def test_meta_device_never_reads_data():
    with torch.device("meta"):
        model = ViT()
    findings = optlint.check_optimizer(torch.optim.AdamW(model.parameters()), model)
    assert "norm.weight" in opt101(findings)


@pytest.mark.parametrize("cls", [torch.optim.LBFGS, torch.optim.Rprop])
def test_optimizers_without_weight_decay(cls):
    model = CNN()
    assert optlint.check_optimizer(cls(model.parameters()), model) == []


def test_hf_style_split_misses_norms_named_ln_and_norm1():
    model = nn.ModuleDict({"ln_1": nn.LayerNorm(4), "fc": nn.Linear(4, 4), "norm1": nn.LayerNorm(4)})
    no_decay = ["bias", "LayerNorm.weight"]
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]
    assert opt101(optlint.check_optimizer(torch.optim.AdamW(groups), model)) == ["ln_1.weight", "norm1.weight"]


def test_bias_in_name_split_misses_norm_weights():
    model = CNN()
    bias = [p for n, p in model.named_parameters() if "bias" in n]
    rest = [p for n, p in model.named_parameters() if "bias" not in n]
    opt = torch.optim.SGD([{"params": rest, "weight_decay": 1e-4}, {"params": bias, "weight_decay": 0}], lr=0.1)
    assert opt101(optlint.check_optimizer(opt, model)) == ["bn.weight"]


def test_ndim_split_is_clean():
    model = ViT()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and not n.endswith(("token", "pos_embed", "tokens"))]
    rest = [p for p in model.parameters() if all(p is not q for q in decay)]
    opt = torch.optim.AdamW([{"params": decay}, {"params": rest, "weight_decay": 0.0}])
    assert optlint.check_optimizer(opt, model) == []


def test_without_model_uses_shapes_and_group_indices():
    model = MLP()
    findings = optlint.check_optimizer(torch.optim.AdamW(model.parameters()))
    assert [(f.code, f.param, f.group, f.index) for f in findings] == [("OPT101", None, 0, 1), ("OPT101", None, 0, 3)]
    assert "param_groups[0]['params'][1]" in findings[0].message


def test_named_parameters_optimizer_uses_param_names():
    model = MLP()
    findings = optlint.check_optimizer(torch.optim.AdamW(model.named_parameters()))
    assert opt101(findings) == ["fc1.bias", "fc2.bias"]


def test_duplicates_typos_and_coupled_adam():
    model = MLP()
    w = model.fc1.weight
    with pytest.warns(UserWarning):
        dup = torch.optim.SGD([{"params": [w, w, model.fc1.bias, model.fc2.weight, model.fc2.bias]}], lr=0.1)
    assert ("OPT104", "fc1.weight") in codes_and_params(optlint.check_optimizer(dup, model))
    typo = torch.optim.AdamW([{"params": model.fc1.parameters()}, {"params": model.fc2.parameters(), "weight_deacy": 0.0}])
    findings = optlint.check_optimizer(typo, model)
    [key] = [f for f in findings if f.code == "OPT006"]
    assert key.group == 1 and "did you mean 'weight_decay'" in key.message
    assert "fc2.bias" in opt101(findings)  # the typo left the default decay in place
    adam = torch.optim.Adam(model.parameters(), weight_decay=1e-4)
    assert [f.code for f in optlint.check_optimizer(adam, model, select=["OPT003"])] == ["OPT003"]
    adamw = torch.optim.AdamW(model.parameters(), weight_decay=1e-4)
    assert optlint.check_optimizer(adamw, model, select=["OPT003"]) == []  # AdamW subclasses Adam: not L2


def test_parameters_not_in_the_model_are_reported_by_index():
    model = MLP()
    stray = nn.Parameter(torch.zeros(3))
    opt = torch.optim.AdamW([stray, *[p for p in model.parameters() if p.ndim >= 2]])
    [finding] = [f for f in optlint.check_optimizer(opt, model) if f.code == "OPT101"]
    assert finding.param is None and finding.index == 0 and "not a parameter of the model" in finding.message


def test_not_an_optimizer_is_a_type_error():
    with pytest.raises(TypeError, match="needs a torch.optim.Optimizer"):
        optlint.check_optimizer(object())
    with pytest.raises(TypeError, match="unknown policy option"):
        optlint.check_optimizer(torch.optim.SGD(MLP().parameters(), lr=0.1), exclude_one_d=True)


def test_assert_optimizer_report_names_both_fixes():
    model = CNN()
    with pytest.raises(optlint.OptimizerConfigError) as caught:
        optlint.assert_optimizer(torch.optim.AdamW(model.parameters(), weight_decay=0.05), model)
    report = str(caught.value)
    assert isinstance(caught.value, AssertionError)
    assert "`bn.weight` (an affine parameter of BatchNorm2d" in report
    assert "optlint.param_groups(model, weight_decay=0.05)" in report and "optlint.fix_optimizer(optimizer, model)" in report
    assert optlint.assert_optimizer(torch.optim.SGD(model.parameters(), lr=0.1), model) is None


@pytest.mark.parametrize("name", sorted(all_models()))
def test_param_groups_is_clean_and_covers_every_trainable_param_once(name):
    model = all_models()[name]
    groups = optlint.param_groups(model, 0.05, lr=1e-3)
    opt = torch.optim.AdamW(groups)
    assert optlint.check_optimizer(opt, model) == []
    ids = [id(p) for g in opt.param_groups for p in g["params"]]
    trainable = [id(p) for p in model.parameters() if p.requires_grad]
    assert sorted(ids) == sorted(trainable) and len(ids) == len(set(ids))
    assert all(g["lr"] == 1e-3 for g in groups) and len(groups) <= 2


def test_param_groups_keep_frozen():
    model = all_models()["frozen"]
    groups = optlint.param_groups(model, 0.05, keep_frozen=True)
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))


@pytest.mark.parametrize("name", sorted(all_models()))
def test_fix_optimizer_leaves_a_clean_check_and_keeps_state(name):
    model = all_models()[name]
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3, betas=(0.8, 0.9))
    # one step so that state exists
    for p in model.parameters():
        if p.requires_grad:
            p.grad = torch.zeros_like(p)
    opt.step()
    state_before = {id(p): s for p, s in opt.state.items()}
    moved = optlint.fix_optimizer(opt, model)
    assert optlint.check_optimizer(opt, model) == []
    assert all(g["betas"] == (0.8, 0.9) and g["lr"] == 1e-3 for g in opt.param_groups)
    assert {id(p): s for p, s in opt.state.items()} == state_before
    expected = sorted(f.param for f in optlint.check_optimizer(torch.optim.AdamW([p for p in model.parameters() if p.requires_grad]), model))
    assert sorted(m.param for m in moved) == expected
    opt.step()  # still a working optimizer


def test_install_warns_once_and_raises():
    model = CNN()
    handle = optlint.install(mode="warn", models=model)
    try:
        opt = torch.optim.AdamW(model.parameters())
        with pytest.warns(UserWarning, match="bn.weight"):
            opt.step()
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            opt.step()  # checked once only
    finally:
        handle.remove()
    handle = optlint.install(mode="raise")
    try:
        with pytest.raises(optlint.OptimizerConfigError, match="OPT101"):
            torch.optim.AdamW(MLP().parameters()).step()
        torch.optim.SGD(MLP().parameters(), lr=0.1).step()  # clean: no error
    finally:
        handle.remove()
    torch.optim.AdamW(MLP().parameters()).step()  # removed: no error


def test_torch_compile_prefix_is_stripped():
    model = MLP()
    compiled = torch.compile(model, backend="eager")
    findings = optlint.check_optimizer(torch.optim.AdamW(compiled.parameters()), compiled)
    assert opt101(findings) == ["fc1.bias", "fc2.bias"]


def test_user_overrides():
    model = ViT()
    infos = optlint.classify_parameters(model, force_weight_decay=["pos_embed"], no_weight_decay=["head.*"])
    assert infos["pos_embed"].role == DECAY
    assert infos["head.weight"].no_decay
    model.head.weight._no_weight_decay = True
    assert optlint.classify_parameters(model)["head.weight"].no_decay
