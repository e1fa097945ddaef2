"""One module per rule; optlint.registry collects them (this package imports none of them)."""
