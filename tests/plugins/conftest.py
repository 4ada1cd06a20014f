from .comfy_fixtures import conds, loaded, tiny_file  # noqa: F401 -- pytest fixtures, used by name
