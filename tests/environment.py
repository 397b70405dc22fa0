"""Loaded by pytest before Django starts (see addopts in pyproject.toml)."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")
# Tests never download model weights: the hub client must fail at once, not retry.
os.environ["HF_HUB_OFFLINE"] = "1"
