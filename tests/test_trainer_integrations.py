"""The trainer integrations, each in a real 2-step CPU run (the zoo environment has the trainers).

Lightning (``pytorch_lightning``), the Hugging Face Trainer and accelerate are not in the main
test environment: ``bash tests/zoo_env.sh`` installs them (tests/zoo-requirements.txt) and
runs this file; elsewhere it skips. That the integrations import no trainer library on import
is checked in the main environment (test_integrations_import_lazily).
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import optlint  # noqa: E402
from optlint.runtime import OptimizerConfigWarning  # noqa: E402


def _library(name: str):
    try:
        return importlib.import_module(name)
    except Exception as error:
        pytest.skip(f"{name} is not importable here ({type(error).__name__}); run `bash tests/zoo_env.sh`")


def test_integrations_import_lazily():
    code = (
        "import sys, optlint.integrations, optlint.integrations.lightning, optlint.integrations.transformers, "
        "optlint.integrations.accelerate\n"
        "loaded = [m for m in ('lightning', 'pytorch_lightning', 'transformers', 'accelerate', 'torch') if m in sys.modules]\n"
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2))


def _batches():
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(8, 4), torch.randn(8, 2)), batch_size=2)


# --- Lightning --------------------------------------------------------------------------------


def _lightning_run(configure, callback, manual=False):
    _library("pytorch_lightning")
    import pytorch_lightning as pl

    class Lit(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = _net()
            self.automatic_optimization = not manual

        def training_step(self, batch, _):
            x, y = batch
            loss = ((self.net(x) - y) ** 2).mean()
            if manual:
                for opt in self.optimizers():
                    opt.zero_grad()
                self.manual_backward(loss)
                for opt in self.optimizers():
                    opt.step()
            return loss

        def configure_optimizers(self):
            return configure(self)

    trainer = pl.Trainer(max_steps=2, accelerator="cpu", logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, callbacks=[callback])
    trainer.fit(Lit(), _batches())
    return trainer


@pytest.mark.zoo
def test_lightning_callback_raises_on_a_bad_run():
    from optlint.integrations.lightning import OptlintCallback

    with pytest.raises(optlint.OptimizerConfigError, match=r"OPT101 `net.1.weight`"):
        _lightning_run(lambda m: torch.optim.AdamW(m.parameters(), weight_decay=0.05), OptlintCallback())


@pytest.mark.zoo
def test_lightning_callback_passes_a_good_run_and_two_optimizers():
    from optlint.integrations.lightning import OptlintCallback

    good = OptlintCallback()
    trainer = _lightning_run(lambda m: torch.optim.AdamW(optlint.param_groups(m, weight_decay=0.05)), good)
    assert good.findings == [] and trainer.global_step == 2
    both = OptlintCallback()

    def muon_and_adamw(m):
        matrices = [p for p in m.parameters() if p.ndim == 2]
        vectors = [p for p in m.parameters() if p.ndim < 2]
        return [torch.optim.Muon(matrices, lr=0.02), torch.optim.AdamW(vectors, weight_decay=0.0)]

    _lightning_run(muon_and_adamw, both, manual=True)
    assert both.findings == []


@pytest.mark.zoo
def test_lightning_callback_select_ignore_and_a_callable():
    from optlint.integrations.lightning import OptlintCallback

    caught = []
    callback = OptlintCallback(on_finding=caught.append, ignore=["OPT101"])
    _lightning_run(lambda m: torch.optim.AdamW(m.net[0].parameters()), callback)
    assert [f.code for f in callback.findings] == ["OPT102"] * 4 and len(caught) == 1


# --- Hugging Face Trainer ---------------------------------------------------------------------


def _hf_run(tmp_path, callback, optimizers=(None, None)):
    t = _library("transformers")
    _library("accelerate")
    torch.manual_seed(0)
    config = t.BertConfig(vocab_size=30, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=20, num_labels=2)
    model = t.BertForSequenceClassification(config)
    data = [{"input_ids": torch.randint(0, 30, (6,)), "labels": torch.tensor(i % 2)} for i in range(8)]
    args = t.TrainingArguments(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=2, report_to=[],
                               use_cpu=True, save_strategy="no", logging_strategy="no", weight_decay=0.01)
    opts = (optimizers[0](model), None) if optimizers[0] else (None, None)
    trainer = t.Trainer(model=model, args=args, train_dataset=data, callbacks=[callback], optimizers=opts)
    trainer.train()
    return trainer


@pytest.mark.zoo
def test_hugging_face_callback(tmp_path):
    from optlint.integrations.transformers import OptlintTrainerCallback

    good = OptlintTrainerCallback()
    trainer = _hf_run(tmp_path, good)  # Trainer's own split
    assert good.findings == [] and trainer.state.global_step == 2
    with pytest.raises(optlint.OptimizerConfigError, match=r"OPT101 `bert.embeddings.LayerNorm.weight`"):
        _hf_run(tmp_path, OptlintTrainerCallback(), optimizers=(lambda m: torch.optim.AdamW(m.parameters(), weight_decay=0.01), None))
    warned = OptlintTrainerCallback(on_finding="warn", select=["OPT101"])
    with pytest.warns(OptimizerConfigWarning, match="OPT101"):
        _hf_run(tmp_path, warned, optimizers=(lambda m: torch.optim.AdamW(m.parameters(), weight_decay=0.01), None))
    assert {f.code for f in warned.findings} == {"OPT101"}


# --- accelerate -------------------------------------------------------------------------------


@pytest.mark.zoo
def test_accelerate_one_liner():
    accelerate = _library("accelerate")
    from optlint.integrations.accelerate import check

    for build, expected in ((lambda m: torch.optim.AdamW(m.parameters()), 4), (lambda m: torch.optim.AdamW(optlint.param_groups(m, 0.05)), 0)):
        accelerator = accelerate.Accelerator(cpu=True)
        net = _net()
        net, opt, batches = accelerator.prepare(net, build(net), _batches())
        if expected:
            with pytest.warns(OptimizerConfigWarning, match=r"problems in AdamW's param groups"):
                findings = check(accelerator, on_finding="warn")
        else:
            findings = check(accelerator)
        assert len([f for f in findings if f.code == "OPT101"]) == expected
        for step, (x, y) in enumerate(batches):
            accelerator.backward(((net(x) - y) ** 2).mean())
            opt.step()
            opt.zero_grad()
            if step == 1:
                break
