"""Long-running work the ComfyUI way: comfy.utils.ProgressBar (with previews), interrupts through
comfy.model_management, resizing and tiling helpers, state-dict files, device questions."""

import json
import os
import time

import comfy.model_management as model_management
import comfy.utils
import folder_paths
import node_helpers
import torch
import torch.nn.functional as F
from PIL import Image

DEVICE_AT_IMPORT = str(model_management.get_torch_device())


def _marker(name):
    with open(os.path.join(folder_paths.get_temp_directory(), name), "w") as f:
        f.write(name)


class Countdown:
    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "steps": ("INT", {"default": 5, "min": 1, "max": 10000}),
                "delay": ("FLOAT", {"default": 0.0, "min": 0.0, "max": 1.0, "step": 0.01}),
                "mode": (["bar", "throw"],),
            }
        }

    RETURN_TYPES = ("STRING",)
    FUNCTION = "count"
    OUTPUT_NODE = True
    CATEGORY = "tests/comfy"

    def count(self, steps, delay, mode):
        bar = comfy.utils.ProgressBar(steps)
        try:
            for i in range(steps):
                if mode == "throw":
                    model_management.throw_exception_if_processing_interrupted()
                else:
                    preview = ("JPEG", Image.new("RGB", (32, 32), (0, 200, 0)), 16) if i == 0 else None
                    bar.update_absolute(i + 1, steps, preview)
                time.sleep(delay)
        except model_management.InterruptProcessingException:
            _marker(f"interrupted_{mode}.txt")
            raise
        return {"ui": {"text": [f"counted {steps}"]}, "result": (f"counted {steps}",)}


class ImageOps:
    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "image": ("IMAGE",),
                "width": ("INT", {"default": 32}),
                "height": ("INT", {"default": 32}),
                "method": (["bilinear", "lanczos", "bislerp", "tiled"],),
            }
        }

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "apply"
    CATEGORY = "tests/comfy"

    def apply(self, image, width, height, method):
        samples = image.movedim(-1, 1)
        if method == "tiled":
            steps = comfy.utils.get_tiled_scale_steps(samples.shape[3], samples.shape[2], 16, 16, 4) * samples.shape[0]
            pbar = comfy.utils.ProgressBar(steps)
            out = comfy.utils.tiled_scale(
                samples,
                lambda t: F.interpolate(t, scale_factor=2, mode="nearest"),
                tile_x=16,
                tile_y=16,
                overlap=4,
                upscale_amount=2,
                out_channels=3,
                pbar=pbar,
            )
            assert pbar.current == steps, (pbar.current, steps)
        else:
            out = comfy.utils.common_upscale(samples, width, height, method, "center")
        return (out.movedim(1, -1).to(model_management.intermediate_device()),)


class StateDictFacts:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"pack_file": (folder_paths.get_filename_list("pack_models"),)}}

    RETURN_TYPES = ("STRING",)
    FUNCTION = "read"
    OUTPUT_NODE = True
    CATEGORY = "tests/comfy"

    def read(self, pack_file):
        path = folder_paths.get_full_path_or_raise("pack_models", pack_file)
        facts = {}
        try:
            sd, metadata = comfy.utils.load_torch_file(path, safe_load=True, return_metadata=True)
        except Exception as exc:  # unsafe pickles are refused
            facts["refused"] = str(exc)
            return {"ui": {"text": [json.dumps(facts)]}, "result": (json.dumps(facts),)}
        facts["sums"] = {k: float(v.sum()) for k, v in sd.items()}
        facts["metadata"] = metadata
        renamed = comfy.utils.state_dict_prefix_replace(dict(sd), {"layer.": "block."})
        copy_path = os.path.join(folder_paths.get_temp_directory(), "copy.safetensors")
        comfy.utils.save_torch_file(renamed, copy_path, metadata={"by": "pack"})
        again, again_meta = comfy.utils.load_torch_file(copy_path, return_metadata=True)
        facts["copy"] = {"keys": sorted(again), "metadata": again_meta}
        return {"ui": {"text": [json.dumps(facts)]}, "result": (json.dumps(facts),)}


class DeviceFacts:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {}}

    RETURN_TYPES = ("STRING",)
    FUNCTION = "facts"
    OUTPUT_NODE = True
    CATEGORY = "tests/comfy"

    def facts(self):
        mm = model_management
        device = mm.get_torch_device()
        mm.load_models_gpu([])
        mm.soft_empty_cache()
        mm.free_memory(1024, device)
        tensor = mm.cast_to_device(torch.ones(2, dtype=torch.float64), mm.intermediate_device(), torch.float32)
        facts = {
            "device": str(device),
            "at_import": DEVICE_AT_IMPORT,
            "intermediate": str(mm.intermediate_device()),
            "offload": str(mm.unet_offload_device()),
            "unet_dtype": str(mm.unet_dtype()),
            "vae_dtype": str(mm.vae_dtype()),
            "free": mm.get_free_memory(device) > 0,
            "mps": mm.is_device_mps(device),
            "xformers": mm.xformers_enabled(),
            "interrupted": mm.processing_interrupted(),
            "cast": str(tensor.dtype),
            "fp16_size": mm.dtype_size(torch.float16),
            "oom_is_exception": issubclass(mm.OOM_EXCEPTION, Exception),
            "has_no_such": hasattr(mm, "no_such_function"),
        }
        return {"ui": {"text": [json.dumps(facts)]}, "result": (json.dumps(facts),)}


class LoadInputPicture:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"name": ("STRING", {"default": "pic.png"})}}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "load"
    CATEGORY = "tests/comfy"

    def load(self, name):
        path = folder_paths.get_annotated_filepath(name)
        picture = node_helpers.pillow(Image.open, path).convert("RGB")
        pixels = torch.tensor(list(picture.getdata()), dtype=torch.float32).view(picture.height, picture.width, 3)
        return ((pixels / 255.0)[None],)


NODE_CLASS_MAPPINGS = {
    "ComfyCountdown": Countdown,
    "ComfyImageOps": ImageOps,
    "ComfyStateDictFacts": StateDictFacts,
    "ComfyDeviceFacts": DeviceFacts,
    "ComfyLoadInputPicture": LoadInputPicture,
}
