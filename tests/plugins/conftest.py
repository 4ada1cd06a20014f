from .comfy_fixtures import conds, loaded, tiny_file  # noqa: F401
