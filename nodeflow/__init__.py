"""NodeFlow: a node-based visual pipeline editor for generative AI that speaks ComfyUI's interfaces."""

__version__ = "0.1.0"  # the one place: pyproject.toml reads it, /system_stats and /openapi.json report it
