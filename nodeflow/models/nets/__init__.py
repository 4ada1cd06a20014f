"""NodeFlow's own networks (same module trees, names and numbers as the diffusers / transformers classes)."""
