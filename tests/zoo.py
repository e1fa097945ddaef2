"""Tiny CPU models for the runtime tests (built in the tests, no downloads)."""

from __future__ import annotations

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(16, 4)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.head = nn.Linear(8, 2)


class MyNorm(nn.Module):
    """A custom norm, recognized by its class name."""

    def __init__(self, dim):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(dim))


class Block(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.ln_1 = MyNorm(dim)
        self.attn = nn.Linear(dim, dim)
        self.gamma = nn.Parameter(torch.ones(dim))  # LayerScale


class ViT(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, 4)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 5, dim))
        self.blocks = nn.Sequential(Block(dim), Block(dim))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)
        self.register_tokens = nn.Parameter(torch.zeros(1, 2, dim))

    def no_weight_decay(self):
        return {"register_tokens"}


class TiedLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(20, 8)
        self.ln_f = nn.LayerNorm(8)
        self.lm_head = nn.Linear(8, 20, bias=False)
        self.lm_head.weight = self.wte.weight


class Frozen(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = CNN()
        self.head = nn.Linear(2, 3)
        for p in self.backbone.parameters():
            p.requires_grad_(False)


def transformer():
    return nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)


def lstm():
    return nn.LSTM(4, 8, num_layers=1)


def rmsnorm_model():
    return nn.Sequential(nn.Linear(4, 4), nn.RMSNorm(4))


def all_models():
    return {
        "mlp": MLP(),
        "cnn": CNN(),
        "vit": ViT(),
        "tied": TiedLM(),
        "frozen": Frozen(),
        "transformer": transformer(),
        "lstm": lstm(),
        "rmsnorm": rmsnorm_model(),
    }


class LearnedPositions(nn.Embedding):
    """BART's embed_positions: an nn.Embedding subclass."""


class PositionTables(nn.Module):
    """Position and token tables as Hugging Face and timm write them.

    nn.Embedding tables (BERT position_embeddings, GPT-2 wpe, BART embed_positions, T5
    relative_attention_bias) and bare nn.Parameter tables (ViT pos_embed / cls_token, Swin
    relative_position_bias_table, HF ViT position_embeddings).
    """

    def __init__(self, dim=4):
        super().__init__()
        self.position_embeddings = nn.Embedding(16, dim)
        self.wpe = nn.Embedding(16, dim)
        self.embed_positions = LearnedPositions(18, dim)
        self.relative_attention_bias = nn.Embedding(32, 2)
        self.pos_embed = nn.Parameter(torch.zeros(1, 5, dim))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.attn = nn.Module()
        self.attn.relative_position_bias_table = nn.Parameter(torch.zeros(9, 2))
        self.vit = nn.Module()
        self.vit.position_embeddings = nn.Parameter(torch.zeros(1, 5, dim))


class NormLookalikes(nn.Module):
    """Leaf modules named like norms: only those whose parameters are vectors are norms."""

    def __init__(self):
        super().__init__()
        self.bn = nn.Linear(16, 4)
        self.ln_proj = nn.Linear(4, 4)
        self.norm = nn.Linear(4, 4)
        self.ada_ln = nn.Linear(4, 8)
        self.proj_norm = nn.Conv1d(4, 4, 1)
        self.ln_f = MyNorm(4)  # a real norm: a vector scale
        self.norm1 = nn.LayerNorm(4)
