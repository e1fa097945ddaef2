"""The static analyzer: source -> flow model (model/) -> rules -> findings -> fixes (fix/)."""
