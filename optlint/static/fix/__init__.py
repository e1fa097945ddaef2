"""Fixes: edits anchored on ast nodes, rendered through LibCST (edits.py); the OPT001 rewrite (split_groups.py)."""
