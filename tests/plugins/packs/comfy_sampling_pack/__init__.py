"""Sampling by calling ComfyUI's core nodes from inside a node (nodes.CheckpointLoaderSimple,
CLIPTextEncode, EmptyLatentImage, common_ksampler, VAEDecode, SaveImage), and a subclass of
nodes.KSampler registered as the pack's own node."""

import folder_paths
import node_helpers
import nodes


class TinyGenerate:
    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "ckpt_name": (folder_paths.get_filename_list("checkpoints"),),
                "text": ("STRING", {"default": "a red square"}),
                "seed": ("INT", {"default": 0, "min": 0, "max": 0xFFFFFFFFFFFFFFFF}),
                "steps": ("INT", {"default": 2, "min": 1, "max": 100}),
            }
        }

    RETURN_TYPES = ("IMAGE", "LATENT")
    FUNCTION = "generate"
    OUTPUT_NODE = True
    CATEGORY = "tests/comfy"

    def generate(self, ckpt_name, text, seed, steps):
        model, clip, vae = nodes.CheckpointLoaderSimple().load_checkpoint(ckpt_name)[:3]
        (positive,) = nodes.CLIPTextEncode().encode(clip, text)
        (negative,) = nodes.CLIPTextEncode().encode(clip, "")
        positive = node_helpers.conditioning_set_values(positive, {"pack_marker": 1})
        (latent,) = nodes.EmptyLatentImage().generate(64, 64, 1)
        (samples,) = nodes.common_ksampler(model, seed, steps, 7.0, "euler", "normal", positive, negative, latent)
        (image,) = nodes.VAEDecode().decode(vae, samples)
        saved = nodes.SaveImage().save_images(image, filename_prefix="comfy_pack")
        return {"ui": saved["ui"], "result": (image, samples)}


class PackKSampler(nodes.KSampler):
    CATEGORY = "tests/comfy"

    @classmethod
    def INPUT_TYPES(cls):
        types = super().INPUT_TYPES()
        types["required"]["denoise"] = ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01})
        return types


NODE_CLASS_MAPPINGS = {"ComfyTinyGenerate": TinyGenerate, "ComfyPackKSampler": PackKSampler}
NODE_DISPLAY_NAME_MAPPINGS = {"ComfyPackKSampler": "KSampler (pack subclass)"}
