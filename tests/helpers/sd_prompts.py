"""API prompts on SD1 checkpoints: the tiny one of tests/sd (``tiny.safetensors``) by default, or
the demo pack's (the Ray tests and bench)."""


def txt2img(
    seed=1,
    steps=3,
    sampler="euler",
    scheduler="normal",
    batch=1,
    denoise=1.0,
    cfg=5.0,
    width=64,
    text="a red star",
    save="SaveLatent",
    ckpt="tiny.safetensors",
    height=64,
    prefix="t",
):
    """A classic txt2img API prompt (ends in SaveLatent, SaveImage or PreviewImage)."""
    prompt = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": text, "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": width, "height": height, "batch_size": batch}},
        "5": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["1", 0],
                "seed": seed,
                "steps": steps,
                "cfg": cfg,
                "sampler_name": sampler,
                "scheduler": scheduler,
                "positive": ["2", 0],
                "negative": ["3", 0],
                "latent_image": ["4", 0],
                "denoise": denoise,
            },
        },
    }
    if save in ("SaveImage", "PreviewImage"):
        prompt["6"] = {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}}
        images = {"images": ["6", 0]} | ({"filename_prefix": prefix} if save == "SaveImage" else {})
        prompt["7"] = {"class_type": save, "inputs": images}
    else:
        prompt["6"] = {"class_type": "SaveLatent", "inputs": {"samples": ["5", 0], "filename_prefix": "lat/t"}}
    return prompt
