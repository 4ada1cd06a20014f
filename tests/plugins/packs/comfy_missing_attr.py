"""A pack calling a comfy.model_management function NodeFlow does not have, at import time."""

import comfy.model_management as mm

mm.surely_not_a_management_function()
NODE_CLASS_MAPPINGS = {}
