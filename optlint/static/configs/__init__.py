"""Optimizers described by config files: YAML/JSON (Hydra, torchtune, Lightning CLI,
DeepSpeed) and Python configs (mmengine/mmcv, detectron2 LazyConfig), and config values that
Python code reads from YAML/JSON files loaded with literal paths."""
