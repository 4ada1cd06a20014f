"""Model folders the ComfyUI way: folder_paths at import (adding a folder kind) and at run time."""

import os

import folder_paths
import nodes
from comfy.cli_args import args
from comfy.comfy_types import IO, ComfyNodeABC, InputTypeDict

PACK_KIND = "pack_models"
PACK_DIR = os.path.join(folder_paths.models_dir, PACK_KIND)
# both ways real packs register folders at import time
folder_paths.add_model_folder_path("pack_extra", os.path.join(folder_paths.base_path, "pack_extra"), is_default=True)
if PACK_KIND not in folder_paths.folder_names_and_paths:
    folder_paths.folder_names_and_paths[PACK_KIND] = ([PACK_DIR], {".bin", ".safetensors"})
assert ".safetensors" in folder_paths.supported_pt_extensions
IMPORT_FACTS = {
    "base_path": folder_paths.base_path,
    "base_directory": args.base_directory,
    "checkpoints_at_import": folder_paths.get_filename_list("checkpoints"),
    "legacy_unet": folder_paths.get_folder_paths("unet") == folder_paths.get_folder_paths("diffusion_models"),
}


class PathFacts(ComfyNodeABC):
    """Everything folder_paths says, as text."""

    @classmethod
    def INPUT_TYPES(cls) -> InputTypeDict:
        return {
            "required": {
                "ckpt_name": (folder_paths.get_filename_list("checkpoints"),),
                "pack_file": (folder_paths.get_filename_list(PACK_KIND),),
                "width": (IO.INT, {"default": 64, "min": 16, "max": nodes.MAX_RESOLUTION}),
            }
        }

    RETURN_TYPES = (IO.STRING,)
    FUNCTION = "facts"
    OUTPUT_NODE = True
    CATEGORY = "tests/comfy"

    def facts(self, ckpt_name, pack_file, width):
        facts = dict(IMPORT_FACTS)
        facts.update(
            {
                "ckpt_path": folder_paths.get_full_path_or_raise("checkpoints", ckpt_name),
                "pack_path": folder_paths.get_full_path(PACK_KIND, pack_file),
                "missing": folder_paths.get_full_path("checkpoints", "nope.safetensors"),
                "outside": folder_paths.get_full_path("checkpoints", "../escape.safetensors"),
                "pack_extra_first": folder_paths.get_folder_paths("pack_extra")[0],
                "dirs": [
                    folder_paths.get_input_directory(),
                    folder_paths.get_output_directory(),
                    folder_paths.get_temp_directory(),
                    folder_paths.get_user_directory(),
                ],
                "annotated": folder_paths.get_annotated_filepath("pic.png [temp]"),
                "annotated_exists": folder_paths.exists_annotated_filepath("pic.png"),
                "by_type": folder_paths.get_directory_by_type("output"),
                "images": folder_paths.filter_files_content_types(["a.png", "b.txt", "c.webp"], ["image"]),
                "width": width,
                "mapped": {
                    "KSampler": nodes.NODE_CLASS_MAPPINGS["KSampler"].FUNCTION,
                    "pack_node": "ComfyAnnounce" in nodes.NODE_CLASS_MAPPINGS,
                    "display": nodes.NODE_DISPLAY_NAME_MAPPINGS.get("ComfyPathFacts"),
                },
            }
        )
        full_folder, stem, counter, subfolder, prefix = folder_paths.get_save_image_path(
            "facts/run_%width%", folder_paths.get_output_directory(), width, width
        )
        with open(os.path.join(full_folder, f"{stem}_{counter:05}_.txt"), "w") as f:
            f.write("saved")
        facts["saved"] = [subfolder, f"{stem}_{counter:05}_.txt", prefix]
        import json

        return {"ui": {"text": [json.dumps(facts)]}, "result": (json.dumps(facts),)}


NODE_CLASS_MAPPINGS = {"ComfyPathFacts": PathFacts}
NODE_DISPLAY_NAME_MAPPINGS = {"ComfyPathFacts": "Path facts (folder_paths)"}
