"""API prompts on the tiny SD1 checkpoint of tests/sd (``tiny.safetensors``)."""


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
):
    """A classic txt2img API prompt on the tiny checkpoint (ends in SaveLatent or SaveImage)."""
    prompt = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny.safetensors"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": text, "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": width, "height": 64, "batch_size": batch}},
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
    if save == "SaveImage":
        prompt["6"] = {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}}
        prompt["7"] = {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "t"}}
    else:
        prompt["6"] = {"class_type": "SaveLatent", "inputs": {"samples": ["5", 0], "filename_prefix": "lat/t"}}
    return prompt
