"""The runtime checker on the test zoo: each model and pattern with its expected findings."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from zoo import CNN, MLP, TiedLM, ViT, all_models  # noqa: E402

import optlint  # noqa: E402
from optlint.policy import BIAS, DECAY, EMBEDDING, NORM, ONE_D, TOKEN  # noqa: E402


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


# --- one policy for position tables, globs and norm names (issue 13, items 1-4) --------------

from zoo import NormLookalikes, PositionTables  # noqa: E402

from optlint.policy import UNSHAPED, USER, is_token_name  # noqa: E402


def test_position_tables_are_judged_by_what_they_are_not_their_name():
    roles = {name: info.role for name, info in optlint.classify_parameters(PositionTables()).items()}
    # an nn.Embedding is an embedding table whatever it is called (decayed by default) ...
    for name in ("position_embeddings.weight", "wpe.weight", "embed_positions.weight"):
        assert roles[name] == EMBEDDING, name
    # ... and a bare nn.Parameter used as a token or position table is a token, as is a
    # relative-position table however it is stored (T5's is an nn.Embedding)
    for name in ("pos_embed", "cls_token", "attn.relative_position_bias_table", "vit.position_embeddings", "relative_attention_bias.weight"):
        assert roles[name] == TOKEN, name
    strict = optlint.classify_parameters(PositionTables(), embedding=True)
    assert all(strict[name].role == USER for name in ("position_embeddings.weight", "wpe.weight", "embed_positions.weight"))


def test_token_globs_name_the_parameter_not_its_ancestors():
    model = nn.Module()
    model.pos_embed = nn.Sequential(nn.Linear(3, 8), nn.GELU(), nn.Conv1d(8, 8, 3, groups=8))  # timm's PosConv-style
    infos = optlint.classify_parameters(model)
    assert infos["pos_embed.0.weight"].role == DECAY and infos["pos_embed.2.weight"].role == DECAY
    assert infos["pos_embed.0.bias"].role == BIAS
    opt = torch.optim.AdamW(optlint.param_groups(model, 0.05))
    assert [p.ndim for p in opt.param_groups[0]["params"]] == [2, 3]


def test_is_token_name_is_the_name_rule_for_the_static_fix():
    assert is_token_name("cls_token") and is_token_name("encoder.pos_embed") and is_token_name("dist_token")
    assert is_token_name("layers.0.attn.relative_position_bias_table")
    assert not is_token_name("pos_embed.0.weight") and not is_token_name("head.weight")


def test_a_leaf_named_like_a_norm_is_a_norm_only_with_vector_parameters():
    infos = optlint.classify_parameters(NormLookalikes())
    for name in ("bn.weight", "ln_proj.weight", "norm.weight", "ada_ln.weight", "proj_norm.weight"):
        assert infos[name].role == DECAY, name
    assert infos["ln_f.scale"].role == NORM and infos["norm1.weight"].role == NORM
    assert infos["bn.bias"].role == BIAS
    # the same holds without exclude_1d: the name alone never excludes a matrix
    assert optlint.classify_parameters(NormLookalikes(), exclude_1d=False)["norm.weight"].role == DECAY


class _FourierPositions(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_projection = nn.Conv2d(8, 4, 1)


class _XCiTLike(nn.Module):
    """xcit's no_weight_decay() returns fnmatch patterns: {'pos_embed.*', 'cls_token'}."""

    def __init__(self):
        super().__init__()
        self.pos_embed = _FourierPositions()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 4))
        self.blocks = nn.ModuleList([nn.Linear(4, 4)])
        self.blocks[0].no_weight_decay = None  # a non-callable attribute is not a hook
        self.table_a = nn.Parameter(torch.zeros(3, 3))
        self.table_b = nn.Parameter(torch.zeros(3, 3))

    def no_weight_decay(self):
        return {"pos_embed.*", "cls_token", "table_[a]"}


def test_no_weight_decay_entries_are_fnmatch_patterns_as_in_timm():
    infos = optlint.classify_parameters(_XCiTLike())
    assert infos["pos_embed.token_projection.weight"].role == TOKEN
    assert "listed by the model's no_weight_decay()" in infos["pos_embed.token_projection.weight"].reasons
    assert infos["table_a"].role == TOKEN and infos["table_b"].role == DECAY
    assert infos["blocks.0.weight"].role == DECAY


# --- advice that fits the finding (item 6) and policy typos (item 7) -------------------------


def test_advice_follows_the_codes_found():
    model = MLP()
    ps = list(model.parameters())
    with pytest.raises(optlint.OptimizerConfigError) as caught:
        optlint.assert_optimizer(torch.optim.SGD(ps[:2], lr=0.1), model)
    report = str(caught.value)
    assert [f.code for f in caught.value.findings] == ["OPT102", "OPT102"]
    assert "fix_optimizer" not in report and "param_groups(" not in report  # neither fixes OPT102 for SGD
    assert "add_param_group" in report
    matrices = [p for p in ps if p.ndim >= 2]
    typo = torch.optim.AdamW([{"params": matrices, "lr_sacle": 2.0}, {"params": [model.fc1.bias, model.fc2.bias], "weight_decay": 0.0}])
    with pytest.raises(optlint.OptimizerConfigError) as caught:
        optlint.assert_optimizer(typo, model)
    report = str(caught.value)
    assert [f.code for f in caught.value.findings] == ["OPT006"]
    assert "fix_optimizer" not in report and "Rename the unknown param-group key" in report
    with pytest.raises(optlint.OptimizerConfigError) as caught:
        optlint.assert_optimizer(torch.optim.SGD(ps, lr=0.1, weight_decay=1e-4), model)
    assert "optlint.param_groups(model, weight_decay=0.0001)" in str(caught.value)


def test_policy_option_typos_are_type_errors_with_a_suggestion():
    model = MLP()
    with pytest.raises(TypeError, match="exclude1d.*did you mean 'exclude_1d'"):
        optlint.param_groups(model, 0.05, exclude1d=True)
    with pytest.raises(TypeError, match="did you mean 'embedding'"):
        optlint.check_optimizer(torch.optim.AdamW(model.parameters()), model, embeddings=True)
    with pytest.raises(TypeError, match="did you mean 'no_weight_decay'"):
        optlint.fix_optimizer(torch.optim.AdamW(model.parameters()), model, no_weight_decays=["x"])
    with pytest.raises(TypeError, match="did you mean 'norm'"):
        optlint.install(norms=False)
    groups = optlint.param_groups(model, 0.05, lr_scale=0.5, betas=(0.9, 0.95), layer_id=3)  # group keys pass
    assert all(g["lr_scale"] == 0.5 and g["layer_id"] == 3 for g in groups)


# --- hostile graphs and arguments (issue 12, items 9 and 15) ---------------------------------


class _CountingDict(dict):
    """A module's _parameters that counts how often the policy reads it."""

    def __init__(self, *args):
        super().__init__(*args)
        self.reads = 0

    def items(self):
        self.reads += 1
        return super().items()

    def values(self):
        self.reads += 1
        return super().values()


def _counted_linear():
    layer = nn.Linear(2, 2)
    layer._parameters = _CountingDict(layer._parameters)
    return layer


def test_each_module_is_walked_once_in_shared_graphs():
    # sharing that doubles per level: 2**16 paths to the bottom block
    level = nn.Module()
    level.fc = _counted_linear()
    layers = [level.fc]
    for _ in range(16):
        up = nn.Module()
        up.fc, up.a, up.b = _counted_linear(), level, level
        layers.append(up.fc)
        level = up
    infos = optlint.classify_parameters(level)
    assert max(layer._parameters.reads for layer in layers) <= 2
    assert sorted(infos) == sorted(name for name, _ in level.named_parameters())
    # the chain of the report: 400 blocks, each holding the one before it
    blocks, previous = nn.ModuleList(), None
    for _ in range(400):
        block = nn.Module()
        block.fc = _counted_linear()
        if previous is not None:
            block.prev = previous
        blocks.append(block)
        previous = block
    findings = optlint.check_optimizer(torch.optim.AdamW(blocks.parameters()), blocks)
    assert len(findings) == 400 and findings[0].param == "0.fc.bias" and findings[-1].param == "399.fc.bias"
    assert max(block.fc._parameters.reads for block in blocks) <= 2


def test_install_warn_never_raises():
    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def parameters(self, recurse=True):
            raise RuntimeError("parameters() is broken")

    model = Broken()
    handle = optlint.install(mode="warn", models=model)
    try:
        opt = torch.optim.AdamW([model.fc.weight, model.fc.bias])
        with pytest.warns(optlint.runtime.OptimizerConfigWarning, match="could not check AdamW: RuntimeError: parameters"):
            opt.step()
    finally:
        handle.remove()


def test_install_arguments_are_checked():
    with pytest.raises(ValueError, match="on_finding must be 'warn', 'raise' or a callable, got 'wran'"):
        optlint.install(mode="wran")
    with pytest.raises(ValueError, match="on_finding must be 'warn', 'raise' or a callable, got 'wran'"):
        optlint.install("wran")
    with pytest.raises(ValueError, match="select has unknown runtime rule code"):
        optlint.install(select=["OPT999"])
    with pytest.raises(TypeError, match="models must hold torch.nn.Module objects, got object"):
        optlint.install(models=[object()])
    with pytest.raises(TypeError, match="models must be a torch.nn.Module or an iterable of them, got int"):
        optlint.install(models=5)


def test_bad_arguments_are_type_or_value_errors_that_name_them():
    model = MLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    opt.param_groups[0]["weight_decay"] = torch.tensor([0.1, 0.2])
    with pytest.raises(ValueError, match=r"param_groups\[0\]\['weight_decay'\] is a tensor of shape \(2,\)"):
        optlint.check_optimizer(opt, model)
    named = torch.optim.AdamW(model.named_parameters())
    named.param_groups[0]["param_names"][1] = 3
    with pytest.raises(TypeError, match=r"param_groups\[0\]\['param_names'\]\[1\] must be a str, got int"):
        optlint.check_optimizer(named)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module or None, got list"):
        optlint.check_optimizer(torch.optim.AdamW(model.parameters()), [model])
    short = torch.optim.AdamW(model.named_parameters())
    short.param_groups[0]["param_names"] = short.param_groups[0]["param_names"][:2]
    with pytest.raises(ValueError, match=r"param_groups\[0\]\['param_names'\] has 2 names for 4 parameters"):
        optlint.fix_optimizer(short)
    assert short.param_groups[0]["weight_decay"] == 0.01 and len(short.param_groups) == 1  # nothing changed
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        optlint.param_groups([model], 0.05)
    with pytest.raises(ValueError, match="select has unknown runtime rule code"):
        optlint.check_optimizer(torch.optim.AdamW(model.parameters()), model, select=["OPT1O1"])
    # one code as a plain string is that code, not its characters
    assert {f.code for f in optlint.check_optimizer(torch.optim.AdamW(model.parameters()), model, select="OPT101")} == {"OPT101"}


# --- lazy modules (issue 12, item 18) --------------------------------------------------------


def test_lazy_parameters_are_judged_once_shaped():
    model = nn.Sequential(nn.LazyLinear(4), nn.LayerNorm(4))
    infos = optlint.classify_parameters(model)
    assert infos["0.weight"].role == UNSHAPED and "not yet shaped" in infos["0.weight"].reasons[0]
    assert infos["0.bias"].role == BIAS and infos["1.weight"].role == NORM  # known without a shape
    with pytest.raises(ValueError, match="`0.weight` not yet shaped"):
        optlint.param_groups(model, 0.05)
    early = torch.optim.AdamW(model.parameters())  # PyTorch allows this: shapes come in place
    with pytest.raises(ValueError, match="not yet shaped"):
        optlint.check_optimizer(early, model)
    with pytest.raises(ValueError, match=r"param_groups\[0\]\['params'\]\[0\], .* not yet shaped"):
        optlint.check_optimizer(early)
    model(torch.randn(2, 3))
    assert optlint.classify_parameters(model)["0.weight"].role == DECAY
    groups = optlint.param_groups(model, 0.05)
    assert groups[0]["params"] == [model[0].weight]
    # install() judges at the first step, after the forward that shaped the weight
    handle = optlint.install(mode="raise", models=model)
    try:
        with pytest.raises(optlint.OptimizerConfigError) as caught:
            early.step()
    finally:
        handle.remove()
    assert sorted(f.param for f in caught.value.findings) == ["0.bias", "1.bias", "1.weight"]
