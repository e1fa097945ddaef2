"""The runtime policy decides by role (module, attribute, then shape), not by timm's names.

One test per kind of parameter that the policy used to get wrong on other libraries' ports
of the same architectures (issue 20, "Why"); each builds the parameter as that library does.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import optlint  # noqa: E402
from optlint.policy import BIAS, DECAY, EMBEDDING, HINT, NORM, TOKEN, VECTOR, is_vector  # noqa: E402


def roles(model, **options):
    return {name: info.role for name, info in optlint.classify_parameters(model, **options).items()}


def flagged(model):
    """What check_optimizer reports on AdamW over every parameter (weight_decay=0.01)."""
    findings = optlint.check_optimizer(torch.optim.AdamW(model.parameters()), model)
    return {f.param for f in findings if f.code == "OPT101"}


def test_the_shared_vector_test():
    for shape in [(), (5,), (1, 1, 8), (4, 1, 1), (8, 1), (1, 1, 1, 8), (1,)]:
        assert is_vector(shape), shape
    for shape in [(2, 3), (1, 4, 8), (4, 1, 3), (3, 3, 1, 1)]:
        assert not is_vector(shape), shape
    # the static fix writes the same test: p.squeeze().ndim < 2
    for shape in [(), (5,), (1, 1, 8), (4, 1, 1), (2, 3), (1, 4, 8), (3, 3, 1, 1)]:
        assert is_vector(shape) == (torch.zeros(shape).squeeze().ndim < 2), shape


class _ConvBiasColumn(nn.Module):
    """A conv bias stored (C, 1), as some audio ports keep it for broadcasting."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(6, 4))
        self.bias = nn.Parameter(torch.zeros(6, 1))


class _RelPartialAttention(nn.Module):
    """Transformer-XL's relative attention: per-head biases r_w_bias / r_r_bias of shape (H, D)."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(8, 24)
        self.r_w_bias = nn.Parameter(torch.zeros(2, 4))
        self.r_r_bias = nn.Parameter(torch.zeros(2, 4))


class PerHeadLayerNorm(nn.Module):
    """Cohere's q_norm / k_norm: one LayerNorm per head, weight (H, D)."""

    def __init__(self, heads, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(heads, dim))


class _QKNormAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.q_proj = nn.Linear(8, 8)
        self.q_norm = PerHeadLayerNorm(2, 4)
        self.k_norm = PerHeadLayerNorm(2, 4)


class _GRN(nn.Module):
    """ConvNeXt-V2's global response normalization, as Hugging Face writes it: (1, 1, 1, C)."""

    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, 1, 1, dim))
        self.bias = nn.Parameter(torch.zeros(1, 1, 1, dim))


def test_a_bias_is_a_bias_whatever_its_shape():
    model = nn.Module()
    model.conv = _ConvBiasColumn()
    model.attn = _RelPartialAttention()
    model.grn = _GRN(8)
    model.mha = nn.MultiheadAttention(8, 2, add_bias_kv=True)
    got = roles(model)
    for name in ("conv.bias", "attn.r_w_bias", "attn.r_r_bias", "grn.bias", "mha.bias_k", "mha.bias_v"):
        assert got[name] == BIAS, name
    assert got["conv.weight"] == DECAY and got["attn.qkv.weight"] == DECAY
    assert {"conv.bias", "attn.r_w_bias", "attn.r_r_bias", "mha.bias_k", "mha.bias_v"} <= flagged(model)


def test_per_head_norm_weights_are_norm_weights():
    model = _QKNormAttention()
    got = roles(model)
    assert got["q_norm.weight"] == NORM and got["k_norm.weight"] == NORM
    assert got["q_proj.weight"] == DECAY
    # torch's own LayerNorm over (H, D) was always a norm; a matrix in a module merely named norm is not
    model.proj_norm = nn.Linear(4, 4)
    assert roles(model)["proj_norm.weight"] == DECAY


def test_vectors_with_singleton_dimensions_are_vectors():
    model = nn.Module()
    model.mix = nn.Parameter(torch.zeros(1, 1, 8))  # RWKV's time_mix coefficients
    model.logit_scale = nn.Parameter(torch.zeros(4, 1, 1))  # Swin-V2's per-head logit scale
    model.grn = _GRN(8)
    model.proj = nn.Linear(8, 8)
    got = roles(model)
    assert got["mix"] == VECTOR and got["logit_scale"] == VECTOR
    assert got["grn.weight"] == VECTOR  # a vector; its bias is a bias
    assert flagged(model) == {"mix", "logit_scale", "grn.weight", "grn.bias", "proj.bias"}


class _HFStyleEmbeddings(nn.Module):
    """Hugging Face DeiT / YOLOS / TimeSformer / LeViT spell their tables so."""

    def __init__(self):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 8))
        self.distillation_token = nn.Parameter(torch.zeros(1, 1, 8))
        self.detection_tokens = nn.Parameter(torch.zeros(1, 5, 8))
        self.time_embeddings = nn.Parameter(torch.zeros(1, 4, 8))
        self.attention_biases = nn.Parameter(torch.zeros(2, 9))
        self.queries = nn.Parameter(torch.zeros(1, 6, 8))  # a table broadcast over the batch


def test_tokens_and_position_tables_of_other_ports_are_tokens():
    got = roles(_HFStyleEmbeddings())
    for name in ("cls_token", "distillation_token", "detection_tokens", "time_embeddings", "attention_biases", "queries"):
        assert got[name] == TOKEN, name


def test_relative_position_tables_are_alike_however_stored():
    model = nn.Module()
    model.t5 = nn.Module()
    model.t5.relative_attention_bias = nn.Embedding(32, 4)  # T5
    model.layoutlm = nn.Module()
    model.layoutlm.rel_pos_bias = nn.Linear(32, 4, bias=False)  # LayoutLMv2
    model.swin = nn.Module()
    model.swin.relative_position_bias_table = nn.Parameter(torch.zeros(49, 4))  # Swin
    model.bert = nn.Module()
    model.bert.distance_embedding = nn.Embedding(63, 8)  # BERT relative_key
    model.words = nn.Embedding(100, 8)
    model.position_embeddings = nn.Embedding(16, 8)  # absolute positions: an embedding table
    got = roles(model)
    for name in ("t5.relative_attention_bias.weight", "layoutlm.rel_pos_bias.weight", "swin.relative_position_bias_table", "bert.distance_embedding.weight"):
        assert got[name] == TOKEN, name
    assert got["words.weight"] == EMBEDDING and got["position_embeddings.weight"] == EMBEDDING


class _MambaMixer(nn.Module):
    """mamba_ssm's Mamba: A_log (d_inner, d_state) and D (d_inner,), marked _no_weight_decay."""

    def __init__(self, mark: bool):
        super().__init__()
        self.in_proj = nn.Linear(4, 16)
        self.A_log = nn.Parameter(torch.zeros(8, 4))
        self.D = nn.Parameter(torch.ones(8))
        if mark:
            self.A_log._no_weight_decay = True
            self.D._no_weight_decay = True


def test_state_space_parameters_follow_the_reference_marks():
    for mark in (True, False):  # Hugging Face's MambaMixer drops the mark: its A_log says it all
        got = roles(_MambaMixer(mark))
        assert got["A_log"] == HINT and got["D"] == HINT, mark
        assert got["in_proj.weight"] == DECAY
    model = nn.Module()
    model.kernel = nn.Parameter(torch.zeros(4, 8))
    model.kernel._optim = {"weight_decay": 0.0, "lr": 1e-3}  # the state-spaces repositories' hint
    model.other = nn.Parameter(torch.zeros(4, 8))
    model.other._optim = {"lr": 1e-3}
    got = roles(model)
    assert got["kernel"] == HINT and got["other"] == DECAY
    assert "A_log" in flagged(_MambaMixer(False))


def test_hooks_of_every_submodule_and_keywords():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.temperature = nn.Parameter(torch.ones(2, 1, 1))
            self.table = nn.Parameter(torch.zeros(3, 3))
            self.gate = nn.Parameter(torch.zeros(3, 3))

        def no_weight_decay(self):
            return {"table"}

        def no_weight_decay_keywords(self):
            return {"gat"}

    model = nn.Sequential(Block())
    got = roles(model)
    assert got["0.table"] == TOKEN and got["0.gate"] == TOKEN and got["0.temperature"] == VECTOR
