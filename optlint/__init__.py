"""optlint: find PyTorch optimizers that weight-decay parameters that must not be decayed.

The static half (``optlint check``) needs only libcst and click. The runtime half
(``check_optimizer``, ``assert_optimizer``, ``param_groups``, ...) needs torch and is
loaded on first use, so ``import optlint`` never imports torch.
"""

from __future__ import annotations

__version__ = "0.1.0"

# Names served lazily from optlint.runtime (which imports torch).
_RUNTIME_NAMES = frozenset(
    {
        "check_optimizer",
        "assert_optimizer",
        "param_groups",
        "fix_optimizer",
        "install",
        "classify_parameters",
        "OptimizerConfigError",
        "RuntimeFinding",
        "register_optimizer",
    }
)

__all__ = ["__version__", *sorted(_RUNTIME_NAMES)]


def __getattr__(name: str):
    if name in _RUNTIME_NAMES:
        from optlint import runtime

        return getattr(runtime, name)
    raise AttributeError(f"module 'optlint' has no attribute {name!r}")
