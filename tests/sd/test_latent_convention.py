"""ComfyUI's LATENT convention: a LATENT holds the VAE encoder's output unscaled; the model's family
scales it on the way into the network and back on the way out; .latent files move between NodeFlow
and ComfyUI unchanged."""

import gzip
import json
import re
import threading
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from nodeflow.engine.context import ExecutionContext
from nodeflow.models.detect import detect_checkpoint
from nodeflow.models.family import family_named
from nodeflow.models.loader import load_checkpoint, load_vae_file
from nodeflow.nodes.latent_files import LoadLatent, SaveLatent
from nodeflow.nodes.sampling_nodes import KSamplerAdvanced
from nodeflow.sampling.run import ksampler_sigmas
from tests.sampling.comfy_reference import ToyNetwork

from .tiny import write_tiny_family

DATA = Path(__file__).resolve().parent.parent / "data"


def node(cls, env=None):
    obj = cls()
    obj.ctx = ExecutionContext("p", "1", lambda *a: None, threading.Event(), env=env)
    return obj


class Recording(ToyNetwork):
    def __init__(self):
        super().__init__()
        self.inputs = []

    def forward(self, x, timestep, **kwargs):
        self.inputs.append(x.clone())
        return super().forward(x, timestep, **kwargs)


def test_vae_encode_gives_the_encoders_unscaled_output(tiny_ckpt_file):
    _, _, vae = load_checkpoint(tiny_ckpt_file)
    pixels = torch.rand(1, 16, 16, 3)
    with torch.no_grad():
        raw = vae.module.encode(pixels.permute(0, 3, 1, 2) * 2 - 1).latent_dist.mode()
    assert torch.allclose(vae.encode(pixels), raw, atol=1e-6)
    assert torch.allclose(
        vae.decode(raw), ((vae.module.decode(raw).sample + 1) / 2).clamp(0, 1).permute(0, 2, 3, 1), atol=1e-6
    )


@pytest.mark.parametrize("family,scale", [("sd1", 0.18215), ("sdxl", 0.13025)])
def test_the_family_scales_latents_into_the_network_and_back(family, scale):
    from nodeflow.models.diffusion_model import DiffusionModel
    from nodeflow.models.patching import PatchedModule

    net = Recording()
    model = DiffusionModel(PatchedModule(net), family)
    start = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(3)) * 4
    options = {"pooled_output": torch.zeros(1, 8)}
    positive = [[torch.full((1, 77, 8), 0.1), options]]
    out = node(KSamplerAdvanced).run(
        model, "disable", 0, 4, 1.0, "euler", "normal", positive, positive, {"samples": start}, 2, 3, "enable"
    )["samples"]
    s0 = float(ksampler_sigmas(model, "normal", 4, start_step=2, end_step=3)[0])
    assert torch.allclose(net.inputs[0] * (s0**2 + 1) ** 0.5, start * scale, atol=1e-5)  # x_in = scaled / sqrt(s²+1)
    # one Euler step of the eps-network from s0 to s1 in the model's space, handed back as a LATENT
    s1 = float(ksampler_sigmas(model, "normal", 4, start_step=2, end_step=3)[1])
    x = start * scale
    t = float(model.schedule.nearest_timestep(torch.tensor([s0]))[0])
    eps = 0.5 * torch.tanh(x / (s0**2 + 1) ** 0.5) + 0.2 * torch.sin(torch.tensor(t / 100)) + 0.1
    assert torch.allclose(out, (x + eps * (s1 - s0)) / scale, atol=1e-4)


def test_a_standalone_vae_takes_the_scale_of_the_model_it_is_used_with(tmp_path):
    refiner_file = write_tiny_family(tmp_path / "refiner.safetensors", "sdxl_refiner")
    model, _, vae_in_file = load_checkpoint(refiner_file)
    lone = tmp_path / "vae.safetensors"
    save_file(
        {
            k[len("first_stage_model.") :]: v
            for k, v in load_file(str(refiner_file)).items()
            if k.startswith("first_stage_model.")
        },
        str(lone),
    )
    vae = load_vae_file(lone)
    pixels = torch.rand(1, 16, 16, 3)
    assert torch.allclose(vae.encode(pixels), vae_in_file.encode(pixels), atol=1e-6)  # no scale of its own
    assert model.latent_format.scale_factor == 0.13025  # the SDXL family's, applied by the model


def test_latent_files_in_comfyuis_format(env):
    samples = torch.randn(2, 4, 8, 8)
    ui = node(SaveLatent, env).run({"samples": samples}, "lat/x").ui["latents"][0]
    written = load_file(str(env.output_dir / ui["subfolder"] / ui["filename"]))
    assert set(written) == {"latent_tensor", "latent_format_version_0"}
    assert torch.equal(written["latent_tensor"], samples)  # stored unscaled, as ComfyUI stores them
    # a file as ComfyUI writes it loads unchanged; an older unmarked one held SD1-scaled latents
    save_file({"latent_tensor": samples, "latent_format_version_0": torch.tensor([])}, str(env.input_dir / "c.latent"))
    save_file({"latent_tensor": samples}, str(env.input_dir / "old.latent"))
    assert torch.equal(node(LoadLatent, env).run("c.latent")["samples"], samples)
    assert torch.allclose(node(LoadLatent, env).run("old.latent")["samples"], samples / 0.18215)


@pytest.mark.parametrize(
    "keys,name", [("sd15_checkpoint_keys.json.gz", "sd1"), ("sdxl_checkpoint_keys.json.gz", "sdxl")]
)
def test_released_checkpoints_are_recognised_as_their_family(keys, name):
    ref = json.loads(gzip.decompress((DATA / keys).read_bytes()))
    shapes = {k: shape for k, (shape, _dtype) in ref["keys"].items()}
    info = detect_checkpoint(shapes)
    assert info.family is family_named(name)
    assert [t["tower"] for t in info.text_configs] == [t.name for t in info.family.text_towers]


def test_variants_are_registered_families():
    sd2 = family_named("sd2")
    assert sd2.variant(prediction="v") is family_named("sd2_v")
    assert family_named("sd1").variant(inpaint=True).name == "sd1_inpaint"
    assert family_named("sd2_v").unet_sample_size == 96
    assert family_named("sdxl_inpaint").latent_format == family_named("sdxl").latent_format


def test_no_code_compares_family_names():
    """Code asks the family (family.py); comparing names would bring back the if-chains."""
    root = Path(__file__).resolve().parents[2] / "nodeflow"
    pattern = re.compile(r"family(\.name)?\s*(==|!=|\bin\b)\s*[\"'(\[]")
    offenders = [
        f"{p.relative_to(root)}:{i}"
        for p in root.rglob("*.py")
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
