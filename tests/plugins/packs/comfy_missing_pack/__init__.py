"""A pack that needs ComfyUI API NodeFlow does not have: its import must fail naming the symbol."""

import folder_paths  # noqa: F401 -- a ComfyUI module NodeFlow has: this import works
from comfy.utils import surely_not_a_comfy_symbol  # noqa: F401 -- the missing symbol this pack exists to import

NODE_CLASS_MAPPINGS = {}
