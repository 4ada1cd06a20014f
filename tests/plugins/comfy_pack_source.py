"""The source of a ComfyUI V1 pack in the style of real ones that import ComfyUI's own modules and
call into MODEL / CLIP / VAE objects: it patches a model (clone + add_patches, a cfg function, a
UNet function wrapper), samples through comfy.sample and through a CFGGuider, encodes text with
tokenize / encode_from_tokens_scheduled and decodes with the VAE. Written into custom_nodes/."""

SOURCE = '''
import torch

import comfy.k_diffusion.sampling
import comfy.model_patcher
import comfy.sample
import comfy.samplers
import comfy.sd

SEEN = {}


def _ksampler_inputs():
    return {"model": ("MODEL",), "seed": ("INT", {"default": 0, "min": 0, "max": 0xffffffffffffffff}),
            "steps": ("INT", {"default": 20, "min": 1, "max": 10000}),
            "cfg": ("FLOAT", {"default": 8.0, "min": 0.0, "max": 100.0}),
            "sampler_name": (comfy.samplers.KSampler.SAMPLERS,), "scheduler": (comfy.samplers.KSampler.SCHEDULERS,),
            "positive": ("CONDITIONING",), "negative": ("CONDITIONING",), "latent_image": ("LATENT",),
            "denoise": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01})}


class PackKSampler:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": _ksampler_inputs()}
    RETURN_TYPES = ("LATENT",)
    FUNCTION = "sample"
    CATEGORY = "pack/sampling"

    def sample(self, model, seed, steps, cfg, sampler_name, scheduler, positive, negative, latent_image, denoise=1.0):
        assert isinstance(model, comfy.model_patcher.ModelPatcher)
        latent = comfy.sample.fix_empty_latent_channels(model, latent_image["samples"])
        noise = comfy.sample.prepare_noise(latent, seed, latent_image.get("batch_index"))
        steps_seen = SEEN.setdefault("steps", [])
        callback = lambda step, x0, x, total: steps_seen.append((step, total))
        samples = comfy.sample.sample(model, noise, steps, cfg, sampler_name, scheduler, positive, negative, latent,
                                      denoise=denoise, noise_mask=latent_image.get("noise_mask"), callback=callback,
                                      disable_pbar=True, seed=seed)
        out = latent_image.copy()
        out["samples"] = samples
        return (out,)


class PackGuidedSampler:
    """SamplerCustom-style: sigmas from the model's ModelSampling, a CFGGuider, a sampler object."""
    @classmethod
    def INPUT_TYPES(s):
        return {"required": _ksampler_inputs()}
    RETURN_TYPES = ("LATENT",)
    FUNCTION = "sample"
    CATEGORY = "pack/sampling"

    def sample(self, model, seed, steps, cfg, sampler_name, scheduler, positive, negative, latent_image, denoise=1.0):
        sigmas = comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), scheduler, steps)
        guider = comfy.samplers.CFGGuider(model)
        guider.set_conds(positive, negative)
        guider.set_cfg(cfg)
        latent = latent_image["samples"]
        noise = comfy.sample.prepare_noise(latent, seed)
        samples = guider.sample(noise, latent, comfy.samplers.sampler_object(sampler_name), sigmas, seed=seed)
        return ({"samples": samples},)


class PackPatchModel:
    """Adds a constant to one weight of a clone (ComfyUI patch format) and halves the UNet output."""
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"model": ("MODEL",), "delta": ("FLOAT", {"default": 0.1, "min": -10, "max": 10}),
                             "unet_scale": ("FLOAT", {"default": 1.0, "min": 0, "max": 10})}}
    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "pack/model"

    def patch(self, model, delta, unet_scale):
        m = model.clone()
        key = "diffusion_model.out.2.bias"
        weight = m.model_state_dict()[key]
        added = m.add_patches({key: (torch.full_like(weight, 1.0),)}, delta, 1.0)
        assert added == [key]

        def wrapper(apply_model, args):
            SEEN.setdefault("cond_or_uncond", []).append(list(args["cond_or_uncond"]))
            return apply_model(args["input"], args["timestep"], **args["c"]) * unet_scale
        if unet_scale != 1.0:
            m.set_model_unet_function_wrapper(wrapper)
        return (m,)


class PackCFGScale:
    """A sampler_cfg_function that multiplies the guidance scale (in noise space, as ComfyUI passes it)."""
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"model": ("MODEL",), "multiplier": ("FLOAT", {"default": 1.0, "min": 0, "max": 10})}}
    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "pack/model"

    def patch(self, model, multiplier):
        def cfg_function(args):
            cond, uncond = args["cond"], args["uncond"]
            return uncond + (cond - uncond) * args["cond_scale"] * multiplier
        m = model.clone()
        m.set_model_sampler_cfg_function(cfg_function)
        return (m,)


class PackEncode:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"clip": ("CLIP",), "text": ("STRING", {"multiline": True})}}
    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "encode"
    CATEGORY = "pack/conditioning"

    def encode(self, clip, text):
        assert isinstance(clip, comfy.sd.CLIP)
        tokens = clip.tokenize(text)
        return (clip.encode_from_tokens_scheduled(tokens),)


class PackDecode:
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"samples": ("LATENT",), "vae": ("VAE",)}}
    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "decode"
    CATEGORY = "pack/latent"

    def decode(self, vae, samples):
        assert isinstance(vae, comfy.sd.VAE) and vae.spacial_compression_decode() == 8
        return (vae.decode(samples["samples"]),)


class PackCompare:
    """Largest absolute difference between two tensors (LATENT samples or IMAGEs), shown as text."""
    @classmethod
    def INPUT_TYPES(s):
        return {"required": {"a": ("*",), "b": ("*",)}}
    RETURN_TYPES = ()
    FUNCTION = "compare"
    OUTPUT_NODE = True
    CATEGORY = "pack/debug"

    def compare(self, a, b):
        a = a["samples"] if isinstance(a, dict) else a
        b = b["samples"] if isinstance(b, dict) else b
        return {"ui": {"text": [repr(float((a - b).abs().max()))]}}


NODE_CLASS_MAPPINGS = {"PackKSampler": PackKSampler, "PackGuidedSampler": PackGuidedSampler,
                       "PackPatchModel": PackPatchModel, "PackCFGScale": PackCFGScale, "PackEncode": PackEncode,
                       "PackDecode": PackDecode, "PackCompare": PackCompare}
'''
