"""The runtime policy against the reference recipes, on real architectures built from config.

- every timm model family (one variant each) with timm's own optimizer factory
  (``create_optimizer_v2``, which splits with ``param_groups_weight_decay``);
- ten Hugging Face architectures with Trainer's own split (``Trainer.get_decay_parameter_names``)
  and with the ``no_decay = ["bias", "LayerNorm.weight"]`` split of the example scripts.

Models are built on the meta device from their configs (random init, no downloads, no data).
For each model and split the test compares, parameter by parameter, the reference's verdict
with optlint's: ``flagged`` are parameters the reference decays and optlint would not (what
``check_optimizer`` reports as OPT101), ``spared`` the reverse (what ``param_groups`` would
decay and the reference does not). Both are data in the tables below, as parameter names
with layer numbers written ``*`` (compared exactly); each non-empty entry is explained in
docs/runtime-reference.md.

timm and transformers are not in the main test environment (timm imports torchvision, whose
PyPI wheels fail next to the CPU torch used there): ``bash tests/zoo_env.sh`` makes the zoo's
own environment (tests/zoo-requirements.txt) and runs this file; elsewhere it skips.
"""

from __future__ import annotations

import importlib
import re
import warnings

import pytest

torch = pytest.importorskip("torch")

import optlint  # noqa: E402

pytestmark = pytest.mark.zoo


def _library(name: str):
    try:
        return importlib.import_module(name)
    except Exception as error:  # ImportError, or torchvision's "operator torchvision::nms does not exist"
        pytest.skip(f"{name} is not importable here ({type(error).__name__}); run `bash tests/zoo_env.sh`")


def _patterns(names) -> list[str]:
    """Layer numbers become `*`: blocks.3.attn.temperature -> blocks.*.attn.temperature."""
    return sorted({re.sub(r"(?:(?<=\.)|^)\d+(?=\.)", "*", name) for name in names})


def _disagreements(model, decayed_by_reference: dict[int, bool]) -> tuple[list[str], list[str]]:
    """(flagged, spared) patterns: where the reference's verdict differs from optlint's."""
    infos = optlint.classify_parameters(model)
    flagged, spared = [], []
    for name, param in model.named_parameters():
        if id(param) not in decayed_by_reference:
            continue  # frozen (Whisper's sinusoidal positions): in no reference group
        no_decay, decayed = infos[name].no_decay, decayed_by_reference[id(param)]
        if no_decay and decayed:
            flagged.append(name)
        elif not no_decay and not decayed:
            spared.append(name)
    return _patterns(flagged), _patterns(spared)


def _decayed(groups) -> dict[int, bool]:
    return {id(p): group["weight_decay"] > 0 for group in groups for p in group["params"]}


def _check_agrees(optimizer, model, flagged_patterns) -> None:
    """check_optimizer itself reports exactly the flagged parameters, and nothing else."""
    findings = optlint.check_optimizer(optimizer, model)
    assert {f.code for f in findings} <= {"OPT101"}, [str(f) for f in findings if f.code != "OPT101"]
    assert _patterns(f.param for f in findings) == flagged_patterns


# --- timm ------------------------------------------------------------------------------------

#: family (timm module) -> (model, flagged, spared). One small variant per family where the
#: family has one; the model is only built on the meta device, so size costs little.
TIMM_FAMILIES = {
    "beit": ("beit_base_patch16_224", (), ()),
    "byoanet": ("halonet26t", (), ()),
    "byobnet": ("gernet_s", (), ()),
    "cait": ("cait_xxs24_224", (), ()),
    "coat": ("coat_tiny", ('aggregate.weight',), ()),
    "convit": ("convit_tiny", (), ()),
    "convmixer": ("convmixer_768_32", (), ()),
    "convnext": ("convnext_atto", (), ()),
    "cpubone": ("cpubone_nano", (), ()),
    "crossvit": ("crossvit_tiny_240", (), ()),
    "csatv2": ("csatv2", ('stages.*.*.attn.attn.mlp.fc1.weight', 'stages.*.*.attn.attn.mlp.fc2.weight', 'stages.*.*.attn.attn.qkv.weight'), ()),
    "cspnet": ("cs3darknet_s", (), ()),
    "cspnext": ("cspnext_tiny", (), ()),
    "davit": ("davit_tiny", (), ()),
    "deepseek_vit": ("deepseek_vit_412m", (), ()),
    "deit": ("deit_tiny_patch16_224", (), ()),
    "densenet": ("densenet121", (), ()),
    "dla": ("dla34", (), ()),
    "dpn": ("dpn68", (), ()),
    "edgenext": ("edgenext_small", ("stages.*.blocks.*.xca.temperature",), ()),
    "efficientformer": ("efficientformer_l1", (), ()),
    "efficientformer_v2": ("efficientformerv2_s0", (), ()),
    "efficientnet": ("mobilenet_edgetpu_v2_xs", (), ()),
    "efficientvim": ("efficientvim_m1", (), ()),
    "efficientvit_mit": ("efficientvit_b0", (), ()),
    "efficientvit_msra": ("efficientvit_m0", (), ()),
    "eva": ("eva02_tiny_patch14_224", (), ()),
    "fasternet": ("fasternet_s", (), ()),
    "fastvit": ("fastvit_s12", ('final_conv.conv_scale.conv.weight', 'stages.*.blocks.*.layer_scale.gamma', 'stages.*.blocks.*.token_mixer.layer_scale.gamma', 'stages.*.blocks.*.token_mixer.mixer.conv_scale.conv.weight', 'stem.*.conv_scale.conv.weight'), ()),
    "focalnet": ("focalnet_tiny_lrf", (), ()),
    "gcvit": ("gcvit_tiny", (), ()),
    "gemma4_vit": ("gemma4_vit_167m", (), ()),
    "ghostnet": ("ghostnet_050", (), ()),
    "hardcorenas": ("hardcorenas_a", (), ()),
    "hgnet": ("hgnet_tiny", (), ()),
    "hiera": ("hiera_tiny_224", (), ()),
    "hieradet_sam2": ("sam2_hiera_tiny", (), ()),
    "hrnet": ("hrnet_w18_small", (), ()),
    "iformer": ("iformer_s", (), ()),
    "inception_next": ("inception_next_atto", (), ()),
    "inception_resnet_v2": ("inception_resnet_v2", (), ()),
    "inception_v3": ("inception_v3", (), ()),
    "inception_v4": ("inception_v4", (), ()),
    "lcnetv2": ("lcnetv2_small", ('stages.*.*.dw_conv_list.*.conv.weight',), ()),
    "levit": ("levit_128s", (), ()),
    "lowformer": ("lowformer_b0", (), ()),
    "mambaout": ("mambaout_femto", (), ()),
    "maxxvit": ("maxvit_pico_rw_256", (), ()),
    "metaformer": ("caformer_s18", (), ()),
    "mlp_mixer": ("gmlp_s16_224", (), ()),
    "mobilenetv3": ("mobilenetv3_small_050", (), ()),
    "mobilenetv5": ("mobilenetv5_300m", (), ()),
    "mobilevit": ("mobilevit_xxs", (), ()),
    "mvitv2": ("mvitv2_tiny", (), ()),
    "naflexvit": ("naflexvit_base_patch16_gap", (), ()),
    "nasnet": ("nasnetalarge", (), ()),
    "nest": ("nest_tiny", (), ()),
    "nextvit": ("nextvit_small", (), ()),
    "nfnet": ("nf_regnet_b0", ('final_conv.gain', 'stages.*.*.conv1.gain', 'stages.*.*.conv2.gain', 'stages.*.*.conv3.gain', 'stages.*.*.downsample.conv.gain', 'stem.conv.gain'), ()),
    "pit": ("pit_xs_224", (), ()),
    "pnasnet": ("pnasnet5large", (), ()),
    "pvt_v2": ("pvt_v2_b0", (), ()),
    "qwen3_vit": ("qwen3_vit_88m", (), ()),
    "rdnet": ("rdnet_tiny", (), ()),
    "regnet": ("regnetv_040", (), ()),
    "repghost": ("repghostnet_050", (), ()),
    "repvit": ("repvit_m1", ('stages.*.blocks.*.token_mixer.conv1.c.weight', 'stages.*.downsample.pre_block.token_mixer.conv1.c.weight'), ()),
    "res2net": ("res2net50_14w_8s", (), ()),
    "resnest": ("resnest50d_1s4x24d", (), ()),
    "resnet": ("resnet50s", (), ()),
    "resnetv2": ("resnetv2_18", (), ()),
    "rexnet": ("rexnet_100", (), ()),
    "selecsls": ("selecsls42", (), ()),
    "senet": ("legacy_senet154", (), ()),
    "sequencer": ("sequencer2d_s", (), ()),
    "shvit": ("shvit_s1", (), ()),
    "sknet": ("skresnet18", (), ()),
    "starnet": ("starnet_s1", (), ()),
    "swiftformer": ("swiftformer_xs", ('stages.*.blocks.*.attn.w_g', 'stages.*.blocks.*.layer_scale.gamma', 'stages.*.blocks.*.layer_scale_1.gamma', 'stages.*.blocks.*.layer_scale_2.gamma', 'stages.*.blocks.*.local_representation.layer_scale.gamma'), ()),
    "swin_transformer": ("swin_s3_tiny_224", (), ()),
    "swin_transformer_v2": ("swinv2_tiny_window8_256", (), ()),
    "swin_transformer_v2_cr": ("swinv2_cr_tiny_224", (), ()),
    "tiny_vit": ("tiny_vit_5m_224", (), ()),
    "tnt": ("tnt_s_patch16_224", (), ()),
    "tresnet": ("tresnet_l", (), ()),
    "twins": ("twins_svt_small", (), ()),
    "vgg": ("vgg11", (), ()),
    "visformer": ("visformer_tiny", ("pos_embed1", "pos_embed2", "pos_embed3"), ()),
    "vision_transformer": ("vit_tiny_patch16_224", (), ()),
    "vision_transformer_hybrid": ("vit_tiny_r_s16_p8_224", (), ()),
    "vision_transformer_relpos": ("vit_relpos_small_patch16_224", (), ()),
    "vision_transformer_sam": ("samvit_base_patch16", ("blocks.*.attn.rel_pos_h", "blocks.*.attn.rel_pos_w"), ()),
    "vitamin": ("vitamin_small_224", (), ()),
    "volo": ("volo_d1_224", (), ()),
    "vovnet": ("vovnet39a", (), ()),
    "xception": ("legacy_xception", (), ()),
    "xception_aligned": ("xception41", (), ()),
    "xcit": ("xcit_nano_12_p8_224", ("blocks.*.attn.temperature",), ()),
}


def test_every_timm_family_is_in_the_table():
    timm = _library("timm")
    assert sorted(TIMM_FAMILIES) == sorted(timm.list_modules())
    for family, (model_name, _, _) in TIMM_FAMILIES.items():
        assert model_name in timm.list_models(module=family), (family, model_name)


@pytest.mark.parametrize("family", sorted(TIMM_FAMILIES))
def test_timm_optimizer_factory(family):
    timm = _library("timm")
    from timm.optim import create_optimizer_v2

    model_name, flagged, spared = TIMM_FAMILIES[family]
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = timm.create_model(model_name, pretrained=False)
    optimizer = create_optimizer_v2(model, "adamw", lr=1e-3, weight_decay=0.05)
    assert _disagreements(model, _decayed(optimizer.param_groups)) == (list(flagged), list(spared))
    _check_agrees(optimizer, model, list(flagged))
    if not flagged and not spared:
        # then optlint's own builder makes exactly timm's split
        ours = optlint.param_groups(model, 0.05)
        theirs = [g for g in optimizer.param_groups if g["params"]]
        assert sorted(sorted(map(id, g["params"])) for g in ours) == sorted(sorted(map(id, g["params"])) for g in theirs)


# --- Hugging Face transformers ---------------------------------------------------------------

_SMALL = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37)


def _hf_model(arch: str):
    """`arch`'s training class from a small config, on the meta device."""
    t = _library("transformers")
    configs = {
        "bert": lambda: t.BertForMaskedLM(t.BertConfig(vocab_size=99, **_SMALL)),
        "roberta": lambda: t.RobertaForMaskedLM(t.RobertaConfig(vocab_size=99, **_SMALL)),
        "gpt2": lambda: t.GPT2LMHeadModel(t.GPT2Config(vocab_size=99, n_embd=32, n_layer=2, n_head=2, n_positions=64, bos_token_id=0, eos_token_id=0)),
        "llama": lambda: t.LlamaForCausalLM(t.LlamaConfig(vocab_size=99, num_key_value_heads=1, **_SMALL)),
        "mistral": lambda: t.MistralForCausalLM(t.MistralConfig(vocab_size=99, num_key_value_heads=1, **_SMALL)),
        "t5": lambda: t.T5ForConditionalGeneration(t.T5Config(vocab_size=99, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=2)),
        "bart": lambda: t.BartForConditionalGeneration(
            t.BartConfig(vocab_size=99, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2,
                         decoder_attention_heads=2, encoder_ffn_dim=37, decoder_ffn_dim=37)
        ),
        "vit": lambda: t.ViTForImageClassification(t.ViTConfig(image_size=32, patch_size=8, num_labels=3, **_SMALL)),
        "clip": lambda: t.CLIPModel(
            t.CLIPConfig(
                text_config=dict(vocab_size=99, bos_token_id=0, eos_token_id=1, **_SMALL),
                vision_config=dict(image_size=32, patch_size=8, **_SMALL),
                projection_dim=16,
            )
        ),
        "mamba": lambda: t.MambaForCausalLM(t.MambaConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, state_size=4)),
    }
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return configs[arch]()


def _trainer_groups(model, weight_decay: float) -> list[dict]:
    """Trainer.create_optimizer's two groups, from Trainer's own get_decay_parameter_names."""
    from transformers import Trainer

    decay_names = set(Trainer.get_decay_parameter_names(None, model))  # does not use self
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    return [
        {"params": [p for n, p in named if n in decay_names], "weight_decay": weight_decay},
        {"params": [p for n, p in named if n not in decay_names], "weight_decay": 0.0},
    ]


def _classic_groups(model, weight_decay: float) -> list[dict]:
    """The split of the older Hugging Face example scripts (run_glue.py, run_clm_no_trainer.py)."""
    no_decay = ["bias", "LayerNorm.weight"]
    named = list(model.named_parameters())
    return [
        {"params": [p for n, p in named if not any(nd in n for nd in no_decay)], "weight_decay": weight_decay},
        {"params": [p for n, p in named if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
    ]


SPLITS = {"trainer": _trainer_groups, "bias_LayerNorm": _classic_groups}

#: (architecture, split) -> (flagged, spared)
HF_EXPECTED: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    ("bert", "trainer"): ((), ()),
    ("bert", "bias_LayerNorm"): ((), ()),
    ("roberta", "trainer"): ((), ()),
    ("roberta", "bias_LayerNorm"): (('lm_head.layer_norm.weight',), ()),
    ("gpt2", "trainer"): ((), ()),
    ("gpt2", "bias_LayerNorm"): (('transformer.h.*.ln_1.weight', 'transformer.h.*.ln_2.weight', 'transformer.ln_f.weight'), ()),
    ("llama", "trainer"): ((), ()),
    ("llama", "bias_LayerNorm"): (('model.layers.*.input_layernorm.weight', 'model.layers.*.post_attention_layernorm.weight', 'model.norm.weight'), ()),
    ("mistral", "trainer"): ((), ()),
    ("mistral", "bias_LayerNorm"): (('model.layers.*.input_layernorm.weight', 'model.layers.*.post_attention_layernorm.weight', 'model.norm.weight'), ()),
    ("t5", "trainer"): ((), ()),
    ("t5", "bias_LayerNorm"): (('decoder.block.*.layer.*.layer_norm.weight', 'decoder.final_layer_norm.weight', 'encoder.block.*.layer.*.layer_norm.weight', 'encoder.final_layer_norm.weight'), ()),
    ("bart", "trainer"): ((), ()),
    ("bart", "bias_LayerNorm"): (('model.decoder.layernorm_embedding.weight', 'model.decoder.layers.*.encoder_attn_layer_norm.weight', 'model.decoder.layers.*.final_layer_norm.weight', 'model.decoder.layers.*.self_attn_layer_norm.weight', 'model.encoder.layernorm_embedding.weight', 'model.encoder.layers.*.final_layer_norm.weight', 'model.encoder.layers.*.self_attn_layer_norm.weight'), ()),
    ("vit", "trainer"): (('vit.embeddings.cls_token', 'vit.embeddings.position_embeddings'), ()),
    ("vit", "bias_LayerNorm"): (('vit.embeddings.cls_token', 'vit.embeddings.position_embeddings', 'vit.layernorm.weight', 'vit.layers.*.layernorm_after.weight', 'vit.layers.*.layernorm_before.weight'), ()),
    ("clip", "trainer"): (('logit_scale', 'vision_model.embeddings.class_embedding'), ()),
    ("clip", "bias_LayerNorm"): (('logit_scale', 'text_model.encoder.layers.*.layer_norm1.weight', 'text_model.encoder.layers.*.layer_norm2.weight', 'text_model.final_layer_norm.weight', 'vision_model.embeddings.class_embedding', 'vision_model.encoder.layers.*.layer_norm1.weight', 'vision_model.encoder.layers.*.layer_norm2.weight', 'vision_model.post_layernorm.weight', 'vision_model.pre_layrnorm.weight'), ()),
    ("mamba", "trainer"): (('backbone.layers.*.mixer.A_log', 'backbone.layers.*.mixer.D', 'backbone.norm_f.weight'), ()),
    ("mamba", "bias_LayerNorm"): (('backbone.layers.*.mixer.A_log', 'backbone.layers.*.mixer.D', 'backbone.layers.*.norm.weight', 'backbone.norm_f.weight'), ()),
}


@pytest.mark.parametrize(("arch", "split"), sorted(HF_EXPECTED))
def test_hugging_face_splits(arch, split):
    model = _hf_model(arch)
    groups = SPLITS[split](model, 0.01)
    flagged, spared = HF_EXPECTED[arch, split]
    assert _disagreements(model, _decayed(groups)) == (list(flagged), list(spared))
    _check_agrees(torch.optim.AdamW(groups, lr=1e-3), model, list(flagged))


# --- the grown zoo: other libraries' ports of the same architectures (issue 20) ---------------
#
# Hugging Face's ports of vision (DeiT, YOLOS, Swin, Swin-V2, BEiT, DINOv2, LeViT, ConvNeXt-V2,
# TimeSformer), audio (wav2vec 2.0, WavLM, Whisper), state-space (Mamba-2) and MoE (Mixtral,
# OLMoE, Qwen3-MoE) models, and Cohere's per-head q_norm/k_norm, each against three splits:
# Trainer's, the ndim rule (`p.ndim < 2` not decayed, the split most hand-written code uses),
# and, where its authors published one, the recipe the model's authors train it with.

_V = dict(image_size=32, patch_size=8, **_SMALL)
_AUDIO = dict(vocab_size=20, conv_dim=(8, 8), conv_stride=(5, 2), conv_kernel=(10, 3), num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=2, **_SMALL)
_MOE = dict(vocab_size=99, num_key_value_heads=1, pad_token_id=0, bos_token_id=0, eos_token_id=1, **_SMALL)


def _ported(arch: str):
    t = _library("transformers")
    configs = {
        "deit": lambda: t.DeiTForImageClassificationWithTeacher(t.DeiTConfig(num_labels=3, **_V)),
        "yolos": lambda: t.YolosForObjectDetection(t.YolosConfig(num_detection_tokens=5, image_size=[32, 32], patch_size=8, **_SMALL)),
        "swin": lambda: t.SwinForImageClassification(t.SwinConfig(image_size=32, patch_size=4, embed_dim=16, depths=[1, 1], num_heads=[2, 4], window_size=4, num_labels=3)),
        "swinv2": lambda: t.Swinv2ForImageClassification(t.Swinv2Config(image_size=32, patch_size=4, embed_dim=16, depths=[1, 1], num_heads=[2, 4], window_size=4, num_labels=3)),
        "beit": lambda: t.BeitForImageClassification(t.BeitConfig(use_relative_position_bias=True, num_labels=3, **_V)),
        "dinov2": lambda: t.Dinov2Model(t.Dinov2Config(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=2)),
        "levit": lambda: t.LevitForImageClassificationWithTeacher(t.LevitConfig(image_size=32, hidden_sizes=[16, 32, 48], num_attention_heads=[2, 2, 3], depths=[1, 1, 1], key_dim=[8, 8, 8], num_labels=3)),
        "convnextv2": lambda: t.ConvNextV2ForImageClassification(t.ConvNextV2Config(num_stages=2, hidden_sizes=[8, 16], depths=[1, 1], num_labels=3)),
        "timesformer": lambda: t.TimesformerForVideoClassification(t.TimesformerConfig(image_size=32, patch_size=8, num_frames=2, num_labels=3, **_SMALL)),
        "wav2vec2": lambda: t.Wav2Vec2ForCTC(t.Wav2Vec2Config(**_AUDIO)),
        "wavlm": lambda: t.WavLMForCTC(t.WavLMConfig(num_buckets=16, **_AUDIO)),
        "whisper": lambda: t.WhisperForConditionalGeneration(
            t.WhisperConfig(vocab_size=99, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=2,
                            encoder_ffn_dim=37, decoder_ffn_dim=37, num_mel_bins=8, max_source_positions=16, max_target_positions=16,
                            pad_token_id=0, bos_token_id=0, eos_token_id=1, decoder_start_token_id=1, suppress_tokens=[], begin_suppress_tokens=[])
        ),
        "mamba2": lambda: t.Mamba2ForCausalLM(t.Mamba2Config(vocab_size=99, hidden_size=32, num_hidden_layers=2, state_size=4, num_heads=4, head_dim=16, n_groups=1, expand=2)),
        "mixtral": lambda: t.MixtralForCausalLM(t.MixtralConfig(num_local_experts=4, num_experts_per_tok=2, **_MOE)),
        "olmoe": lambda: t.OlmoeForCausalLM(t.OlmoeConfig(num_experts=4, num_experts_per_tok=2, **_MOE)),
        "qwen3_moe": lambda: t.Qwen3MoeForCausalLM(t.Qwen3MoeConfig(num_experts=4, num_experts_per_tok=2, moe_intermediate_size=16, **_MOE)),
        "cohere": lambda: t.CohereForCausalLM(t.CohereConfig(use_qk_norm=True, **_MOE)),
    }
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return configs[arch]()


def _ndim_groups(model, weight_decay: float) -> list[dict]:
    """The ndim rule: no decay for parameters with ndim < 2 (nanoGPT, OpenCLIP's default)."""
    named = list(model.named_parameters())
    return [
        {"params": [p for _, p in named if p.ndim >= 2], "weight_decay": weight_decay},
        {"params": [p for _, p in named if p.ndim < 2], "weight_decay": 0.0},
    ]


def _timm_like(skip=(), keywords=()):
    """The split timm's factory, and the repositories that copy it (DeiT, LeViT, Swin, BEiT),
    make: 1-D parameters, names ending in `.bias`, and the model's no_weight_decay() names
    (here the port's spelling of them) and no_weight_decay_keywords() substrings."""

    def groups(model, weight_decay: float) -> list[dict]:
        named = list(model.named_parameters())

        def no_decay(name, p):
            own = name.rsplit(".", 1)[-1]
            return p.ndim <= 1 or name.endswith(".bias") or own in skip or any(k in name for k in keywords)

        return [
            {"params": [p for n, p in named if not no_decay(n, p)], "weight_decay": weight_decay},
            {"params": [p for n, p in named if no_decay(n, p)], "weight_decay": 0.0},
        ]

    return groups


def _dinov2_groups(model, weight_decay: float) -> list[dict]:
    """DINOv2's get_params_groups_with_decay: no decay for `.bias`, "norm" and "gamma" names."""
    named = list(model.named_parameters())
    no_decay = lambda n: n.endswith(".bias") or "norm" in n or "gamma" in n or "lambda1" in n  # HF spells gamma lambda1
    return [
        {"params": [p for n, p in named if not no_decay(n)], "weight_decay": weight_decay},
        {"params": [p for n, p in named if no_decay(n)], "weight_decay": 0.0},
    ]


def _decay_everything(model, weight_decay: float) -> list[dict]:
    """fairseq's Adam (wav2vec 2.0's and WavLM's training): one group, every parameter decayed."""
    return [{"params": list(model.parameters()), "weight_decay": weight_decay}]


def _mamba_reference(model, weight_decay: float) -> list[dict]:
    """mamba_ssm's training recipe: no decay for biases, norm weights (ndim < 2) and the tensors
    the reference implementation marks `_no_weight_decay` (A_log, D, dt_bias)."""
    named = list(model.named_parameters())
    no_decay = lambda n, p: p.ndim < 2 or n.rsplit(".", 1)[-1] in ("A_log", "D", "dt_bias")
    return [
        {"params": [p for n, p in named if not no_decay(n, p)], "weight_decay": weight_decay},
        {"params": [p for n, p in named if no_decay(n, p)], "weight_decay": 0.0},
    ]


#: The authors' recipe of each port, where they published one (links in docs/runtime-reference.md).
AUTHORS = {
    "deit": _timm_like(skip=("position_embeddings", "cls_token", "distillation_token")),
    "swin": _timm_like(skip=("absolute_pos_embed",), keywords=("relative_position_bias_table",)),
    "swinv2": _timm_like(skip=("absolute_pos_embed",), keywords=("continuous_position_bias_mlp", "logit_scale", "relative_position_bias_table")),
    "beit": _timm_like(skip=("position_embeddings", "cls_token")),
    "levit": _timm_like(keywords=("attention_biases",)),
    "dinov2": _dinov2_groups,
    "wav2vec2": _decay_everything,
    "wavlm": _decay_everything,
    "mamba2": _mamba_reference,
    "mamba": _mamba_reference,
}
PORT_SPLITS = {"trainer": _trainer_groups, "ndim": _ndim_groups}




#: (architecture, split) -> (flagged, spared), over the first table's models (ndim rule; the
#: Mamba authors' recipe) and the ports above (Trainer, ndim rule, authors' recipe).
PORTS_EXPECTED: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    ('bert', 'ndim'): ((), ()),
    ('roberta', 'ndim'): ((), ()),
    ('gpt2', 'ndim'): ((), ()),
    ('llama', 'ndim'): ((), ()),
    ('mistral', 'ndim'): ((), ()),
    ('t5', 'ndim'): (('decoder.block.*.layer.*.SelfAttention.relative_attention_bias.weight', 'encoder.block.*.layer.*.SelfAttention.relative_attention_bias.weight'), ()),
    ('bart', 'ndim'): ((), ()),
    ('vit', 'ndim'): (('vit.embeddings.cls_token', 'vit.embeddings.position_embeddings'), ()),
    ('clip', 'ndim'): ((), ()),
    ('mamba', 'ndim'): (('backbone.layers.*.mixer.A_log',), ()),
    ('mamba', 'authors'): ((), ()),
    ('deit', 'ndim'): (('deit.embeddings.cls_token', 'deit.embeddings.distillation_token', 'deit.embeddings.position_embeddings'), ()),
    ('deit', 'trainer'): (('deit.embeddings.cls_token', 'deit.embeddings.distillation_token', 'deit.embeddings.position_embeddings'), ()),
    ('deit', 'authors'): ((), ()),
    ('yolos', 'ndim'): (('vit.embeddings.cls_token', 'vit.embeddings.detection_tokens', 'vit.embeddings.position_embeddings', 'vit.encoder.interpolation.mid_position_embeddings'), ()),
    ('yolos', 'trainer'): (('vit.embeddings.cls_token', 'vit.embeddings.detection_tokens', 'vit.embeddings.position_embeddings', 'vit.encoder.interpolation.mid_position_embeddings'), ()),
    ('swin', 'ndim'): (('swin.encoder.layers.*.blocks.*.attention.relative_position_bias.relative_position_bias_table',), ()),
    ('swin', 'trainer'): ((), ()),
    ('swin', 'authors'): ((), ()),
    ('swinv2', 'ndim'): (('swinv2.encoder.layers.*.blocks.*.attention.self.logit_scale',), ()),
    ('swinv2', 'trainer'): (('swinv2.encoder.layers.*.blocks.*.attention.self.logit_scale',), ('swinv2.encoder.layers.*.blocks.*.attention.self.continuous_position_bias_mlp.*.weight',)),
    ('swinv2', 'authors'): ((), ('swinv2.encoder.layers.*.blocks.*.attention.self.continuous_position_bias_mlp.*.weight',)),
    ('beit', 'ndim'): (('beit.embeddings.cls_token', 'beit.layers.*.relative_position_bias.relative_position_bias_table'), ()),
    ('beit', 'trainer'): (('beit.embeddings.cls_token', 'beit.layers.*.lambda_1', 'beit.layers.*.lambda_2'), ()),
    ('beit', 'authors'): (('beit.layers.*.relative_position_bias.relative_position_bias_table',), ()),
    ('dinov2', 'ndim'): (('embeddings.cls_token', 'embeddings.mask_token', 'embeddings.position_embeddings'), ()),
    ('dinov2', 'trainer'): (('embeddings.cls_token', 'embeddings.mask_token', 'embeddings.position_embeddings', 'encoder.layer.*.layer_scale1.lambda1', 'encoder.layer.*.layer_scale2.lambda1'), ()),
    ('dinov2', 'authors'): (('embeddings.cls_token', 'embeddings.mask_token', 'embeddings.position_embeddings'), ()),
    ('levit', 'ndim'): (('levit.encoder.stages.*.layers.*.attention_biases', 'levit.encoder.stages.*.layers.*.module.attention_biases'), ()),
    ('levit', 'trainer'): ((), ()),
    ('levit', 'authors'): ((), ()),
    ('convnextv2', 'ndim'): (('convnextv2.encoder.stages.*.layers.*.grn.bias', 'convnextv2.encoder.stages.*.layers.*.grn.weight'), ()),
    ('convnextv2', 'trainer'): (('convnextv2.encoder.stages.*.layers.*.grn.weight',), ()),
    ('timesformer', 'ndim'): (('timesformer.embeddings.cls_token', 'timesformer.embeddings.position_embeddings', 'timesformer.embeddings.time_embeddings'), ()),
    ('timesformer', 'trainer'): (('timesformer.embeddings.cls_token', 'timesformer.embeddings.position_embeddings', 'timesformer.embeddings.time_embeddings'), ()),
    ('wav2vec2', 'ndim'): (('wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original0',), ()),
    ('wav2vec2', 'trainer'): (('wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original0', 'wav2vec2.masked_spec_embed'), ()),
    ('wav2vec2', 'authors'): (('lm_head.bias', 'wav2vec2.encoder.layer_norm.bias', 'wav2vec2.encoder.layer_norm.weight', 'wav2vec2.encoder.layers.*.attention.k_proj.bias', 'wav2vec2.encoder.layers.*.attention.out_proj.bias', 'wav2vec2.encoder.layers.*.attention.q_proj.bias', 'wav2vec2.encoder.layers.*.attention.v_proj.bias', 'wav2vec2.encoder.layers.*.feed_forward.intermediate_dense.bias', 'wav2vec2.encoder.layers.*.feed_forward.output_dense.bias', 'wav2vec2.encoder.layers.*.final_layer_norm.bias', 'wav2vec2.encoder.layers.*.final_layer_norm.weight', 'wav2vec2.encoder.layers.*.layer_norm.bias', 'wav2vec2.encoder.layers.*.layer_norm.weight', 'wav2vec2.encoder.pos_conv_embed.conv.bias', 'wav2vec2.encoder.pos_conv_embed.conv.parametrizations.weight.original0', 'wav2vec2.feature_extractor.conv_layers.*.layer_norm.bias', 'wav2vec2.feature_extractor.conv_layers.*.layer_norm.weight', 'wav2vec2.feature_projection.layer_norm.bias', 'wav2vec2.feature_projection.layer_norm.weight', 'wav2vec2.feature_projection.projection.bias', 'wav2vec2.masked_spec_embed'), ()),
    ('wavlm', 'ndim'): (('wavlm.encoder.layers.*.attention.gru_rel_pos_const', 'wavlm.encoder.layers.*.attention.rel_attn_embed.weight', 'wavlm.encoder.pos_conv_embed.conv.parametrizations.weight.original0'), ()),
    ('wavlm', 'trainer'): (('wavlm.encoder.layers.*.attention.gru_rel_pos_const', 'wavlm.encoder.layers.*.attention.rel_attn_embed.weight', 'wavlm.encoder.pos_conv_embed.conv.parametrizations.weight.original0', 'wavlm.masked_spec_embed'), ()),
    ('wavlm', 'authors'): (('lm_head.bias', 'wavlm.encoder.layer_norm.bias', 'wavlm.encoder.layer_norm.weight', 'wavlm.encoder.layers.*.attention.gru_rel_pos_const', 'wavlm.encoder.layers.*.attention.gru_rel_pos_linear.bias', 'wavlm.encoder.layers.*.attention.k_proj.bias', 'wavlm.encoder.layers.*.attention.out_proj.bias', 'wavlm.encoder.layers.*.attention.q_proj.bias', 'wavlm.encoder.layers.*.attention.rel_attn_embed.weight', 'wavlm.encoder.layers.*.attention.v_proj.bias', 'wavlm.encoder.layers.*.feed_forward.intermediate_dense.bias', 'wavlm.encoder.layers.*.feed_forward.output_dense.bias', 'wavlm.encoder.layers.*.final_layer_norm.bias', 'wavlm.encoder.layers.*.final_layer_norm.weight', 'wavlm.encoder.layers.*.layer_norm.bias', 'wavlm.encoder.layers.*.layer_norm.weight', 'wavlm.encoder.pos_conv_embed.conv.bias', 'wavlm.encoder.pos_conv_embed.conv.parametrizations.weight.original0', 'wavlm.feature_extractor.conv_layers.*.layer_norm.bias', 'wavlm.feature_extractor.conv_layers.*.layer_norm.weight', 'wavlm.feature_projection.layer_norm.bias', 'wavlm.feature_projection.layer_norm.weight', 'wavlm.feature_projection.projection.bias', 'wavlm.masked_spec_embed'), ()),
    ('whisper', 'ndim'): ((), ()),
    ('whisper', 'trainer'): ((), ()),
    ('mamba2', 'ndim'): ((), ()),
    ('mamba2', 'trainer'): (('backbone.layers.*.mixer.A_log', 'backbone.layers.*.mixer.D', 'backbone.norm_f.weight'), ()),
    ('mamba2', 'authors'): ((), ()),
    ('mixtral', 'ndim'): ((), ()),
    ('mixtral', 'trainer'): ((), ()),
    ('olmoe', 'ndim'): ((), ()),
    ('olmoe', 'trainer'): ((), ()),
    ('qwen3_moe', 'ndim'): ((), ()),
    ('qwen3_moe', 'trainer'): ((), ()),
    ('cohere', 'ndim'): (('model.layers.*.self_attn.k_norm.weight', 'model.layers.*.self_attn.q_norm.weight'), ()),
    ('cohere', 'trainer'): ((), ()),
}
PORTS = sorted({arch for arch, _ in PORTS_EXPECTED})


def _model_of(arch: str):
    return _hf_model(arch) if any(key[0] == arch for key in HF_EXPECTED) else _ported(arch)


@pytest.mark.parametrize("arch", PORTS)
def test_ported_architectures(arch):
    model = _model_of(arch)
    for (name, split), (flagged, spared) in sorted(PORTS_EXPECTED.items()):
        if name != arch:
            continue
        groups = (AUTHORS[arch] if split == "authors" else PORT_SPLITS[split])(model, 0.01)
        assert _disagreements(model, _decayed(groups)) == (list(flagged), list(spared)), split
        _check_agrees(torch.optim.AdamW(groups, lr=1e-3), model, list(flagged))


def test_every_authors_recipe_is_in_the_table():
    assert {arch for arch, split in PORTS_EXPECTED if split == "authors"} == set(AUTHORS)


def test_documented_disagreements_are_counted():
    """docs/runtime-reference.md states the count of documented disagreements: keep it true."""
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "runtime-reference.md").read_text(encoding="utf-8")
    rows = [v for v in list(PORTS_EXPECTED.values()) + list(HF_EXPECTED.values()) if v != ((), ())]
    timm_rows = [v for v in TIMM_FAMILIES.values() if v[1] or v[2]]
    count = len(rows) + len(timm_rows)
    assert f"**{count} documented disagreements**" in text
