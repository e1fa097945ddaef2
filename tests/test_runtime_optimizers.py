"""Several optimizers for one model, optimizers optlint must be told about, and the keys that
torch's schedulers write into param groups (issue 20 items 2-3, issue 22 items 18-19)."""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import optlint  # noqa: E402


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(32, 8)
        self.block = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 8))
        self.norm = nn.LayerNorm(8)
        self.head = nn.Linear(8, 32, bias=False)

    def forward(self, tokens):
        return self.head(self.norm(self.block(self.embed(tokens))))


def muon_and_adamw(model):
    """The Muon recipe: Muon for the hidden matrices, AdamW for embeddings, head and vectors."""
    hidden = [p for n, p in model.named_parameters() if p.ndim >= 2 and not n.startswith(("embed", "head"))]
    matrices = [model.embed.weight, model.head.weight]
    vectors = [p for p in model.parameters() if p.ndim < 2]
    muon = torch.optim.Muon(hidden, lr=0.02, weight_decay=0.01)
    adamw = torch.optim.AdamW([{"params": matrices}, {"params": vectors, "weight_decay": 0.0}], lr=3e-4, weight_decay=0.01)
    return muon, adamw


def step(model, *optimizers):
    loss = model(torch.randint(0, 32, (2, 5))).sum()
    loss.backward()
    for optimizer in optimizers:
        optimizer.step()
        optimizer.zero_grad()


def test_muon_and_adamw_are_judged_together():
    model = TinyLM()
    muon, adamw = muon_and_adamw(model)
    assert optlint.check_optimizer([muon, adamw], model) == []
    optlint.assert_optimizer((muon, adamw), model)
    # alone, each leaves the other's parameters untrained, and the report says what to do
    alone = optlint.check_optimizer(adamw, model)
    assert sorted(f.param for f in alone if f.code == "OPT102") == ["block.0.weight", "block.2.weight"]
    with pytest.raises(optlint.OptimizerConfigError, match=r"check them together: optlint.check_optimizer\(\[muon, adamw\], model\)"):
        optlint.assert_optimizer(adamw, model)


def test_findings_of_several_optimizers_name_the_optimizer():
    model = TinyLM()
    muon, _ = muon_and_adamw(model)
    everything_else = [model.embed.weight, model.head.weight] + [p for p in model.parameters() if p.ndim < 2]
    adamw = torch.optim.AdamW(everything_else, weight_decay=0.05)
    findings = optlint.check_optimizer([muon, adamw], model)
    assert {f.code for f in findings} == {"OPT101"}
    assert {f.optimizer for f in findings} == {1}
    assert "in param group 0 of AdamW (optimizer 1) with weight_decay=0.05" in findings[0].message
    with pytest.raises(optlint.OptimizerConfigError) as raised:
        optlint.assert_optimizer([muon, adamw], model)
    assert "in the param groups of Muon + AdamW" in str(raised.value)
    assert "torch.optim.AdamW(optlint.param_groups(model, weight_decay=0.05), ...)" in str(raised.value)


def test_a_parameter_no_optimizer_trains_is_reported_once():
    model = TinyLM()
    muon, adamw = muon_and_adamw(model)
    adamw.param_groups[1]["params"] = adamw.param_groups[1]["params"][1:]  # drop block.0.bias
    findings = optlint.check_optimizer([muon, adamw], model)
    assert [(f.code, f.param) for f in findings] == [("OPT102", "block.0.bias")]
    assert "in no optimizer's param groups" in findings[0].message


def test_install_waits_for_the_first_step_and_judges_the_union():
    model = TinyLM()
    handle = optlint.install("raise", models=model)
    try:
        muon, adamw = muon_and_adamw(model)
        step(model, adamw, muon)  # adamw steps first: muon's matrices are not "untrained"
        step(model, adamw, muon)
    finally:
        handle.remove()


def test_install_reports_each_problem_once_across_optimizers():
    model = TinyLM()
    reports = []
    handle = optlint.install(on_finding=reports.append, models=model)
    try:
        muon, _ = muon_and_adamw(model)
        adamw = torch.optim.AdamW([model.embed.weight, model.head.weight] + [p for p in model.parameters() if p.ndim < 2])
        step(model, muon, adamw)
        step(model, muon, adamw)
    finally:
        handle.remove()
    assert len(reports) == 1
    assert sorted(f.param for f in reports[0].findings) == ["block.0.bias", "block.2.bias", "norm.bias", "norm.weight"]


def test_install_select_and_ignore():
    model = TinyLM()
    caught = []
    handle = optlint.install(on_finding=caught.append, models=model, ignore=["OPT101"])
    try:
        opt = torch.optim.AdamW(model.parameters())
        step(model, opt)
    finally:
        handle.remove()
    assert caught == []
    handle = optlint.install(on_finding=caught.append, models=model, select=["OPT101"])
    try:
        opt = torch.optim.AdamW(model.block.parameters())
        step(model, opt)
    finally:
        handle.remove()
    assert {f.code for f in caught[0].findings} == {"OPT101"}  # OPT102 on the rest is not selected


def test_install_restores_the_optimizer_constructor():
    original = torch.optim.Optimizer.__init__
    first, second = optlint.install(), optlint.install()
    assert torch.optim.Optimizer.__init__ is not original
    first.remove()
    first.remove()  # twice is harmless
    assert torch.optim.Optimizer.__init__ is not original
    second.remove()
    assert torch.optim.Optimizer.__init__ is original


# --- optimizers that keep their decay elsewhere ----------------------------------------------


class WdAdam(torch.optim.Optimizer):
    """A custom optimizer that keeps its decay under "wd"."""

    def __init__(self, params, lr=1e-3, wd=0.01):
        super().__init__(params, {"lr": lr, "wd": wd})

    def step(self, closure=None):
        return None


def test_an_unreadable_decay_is_reported_once_not_read_as_zero():
    model = TinyLM()
    findings = optlint.check_optimizer(WdAdam(model.parameters()), model)
    assert [f.code for f in findings] == ["OPT106"]
    assert "cannot read the weight decay of WdAdam" in findings[0].message and "'wd'" in findings[0].message
    assert "optlint.register_optimizer(WdAdam, decay_key=..., default=...)" in findings[0].message
    # an optimizer with nothing to judge is not reported
    assert optlint.check_optimizer(WdAdam([model.head.weight]), model, ignore=["OPT102"]) == []
    with pytest.raises(ValueError, match="cannot read the weight decay of WdAdam"):
        optlint.fix_optimizer(WdAdam(model.parameters()), model)


def test_register_optimizer_reads_its_decay_key():
    model = TinyLM()
    optlint.register_optimizer(WdAdam, decay_key="wd", default=0.01)
    try:
        opt = WdAdam(model.parameters())
        findings = optlint.check_optimizer(opt, model)
        assert sorted(f.param for f in findings if f.code == "OPT101") == ["block.0.bias", "block.2.bias", "norm.bias", "norm.weight"]
        assert "weight_decay=0.01" in findings[0].message
        moved = optlint.fix_optimizer(opt, model)
        assert len(moved) == 4 and opt.param_groups[1]["wd"] == 0.0
        assert optlint.check_optimizer(opt, model) == []
        optlint.register_optimizer(WdAdam, decay_key=None)  # one that never decays
        assert optlint.check_optimizer(WdAdam(model.parameters()), model) == []
    finally:
        from optlint.runtime import unregister_optimizer

        unregister_optimizer(WdAdam)
    with pytest.raises(TypeError, match="cls must be an optimizer class"):
        optlint.register_optimizer(WdAdam(model.parameters()))


# --- keys that torch's schedulers write (issue 22 item 18) ------------------------------------


def test_scheduler_keys_are_known_keys():
    from torch.optim.lr_scheduler import CyclicLR, OneCycleLR
    from torch.optim.swa_utils import SWALR

    model = TinyLM()
    for make in (
        lambda opt: SWALR(opt, swa_lr=0.05),
        lambda opt: OneCycleLR(opt, max_lr=0.1, total_steps=10),
        lambda opt: CyclicLR(opt, base_lr=0.01, max_lr=0.1),
    ):
        opt = torch.optim.SGD(optlint.param_groups(model, weight_decay=1e-4), lr=0.1, momentum=0.9)
        make(opt)
        assert optlint.check_optimizer(opt, model) == [], make
    handle = optlint.install("raise", models=model)
    try:
        opt = torch.optim.SGD(optlint.param_groups(model, weight_decay=1e-4), lr=0.1)
        swa = SWALR(opt, swa_lr=0.05)
        step(model, opt)
        swa.step()
    finally:
        handle.remove()


# --- param_groups(..., params=x) (issue 22 item 19) -------------------------------------------


def test_param_groups_rejects_params():
    model = TinyLM()
    with pytest.raises(TypeError, match=r"params= is not an option: the groups' parameters come from the model"):
        optlint.param_groups(model, 0.05, params=model.block.parameters())
    with pytest.raises(TypeError, match=r"param_names= is not an option"):
        optlint.param_groups(model, 0.05, param_names=["a"])


def test_a_trainer_wrapper_is_unwrapped():
    class Wrapped:  # accelerate's AcceleratedOptimizer keeps the optimizer as .optimizer
        def __init__(self, optimizer):
            self.optimizer = optimizer

    model = TinyLM()
    findings = optlint.check_optimizer(Wrapped(torch.optim.AdamW(model.parameters())), model)
    assert len([f for f in findings if f.code == "OPT101"]) == 4


def test_warn_mode_still_never_raises():
    model = TinyLM()
    handle = optlint.install(models=model)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            step(model, torch.optim.AdamW(model.parameters()))
    finally:
        handle.remove()
    assert any("OPT101" in str(w.message) for w in caught)
