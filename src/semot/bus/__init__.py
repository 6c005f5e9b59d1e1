"""Cross-node delivery: the interface (base.py) and the in-process implementation (local.py)."""
