"""A pack that needs ComfyUI API NodeFlow does not have: its import must fail naming the symbol."""

import folder_paths  # noqa: F401 - present
from comfy.utils import surely_not_a_comfy_symbol  # noqa: F401 - absent

NODE_CLASS_MAPPINGS = {}
