"""ComfyUI's KSampler on a closed-form toy network (tests/data/ksampler_toy_reference.*, see
shared/reference/ksampler-reference.md): the network, the conditioning and one runner that takes a
case of the reference through NodeFlow's real KSampler node and DiffusionModel."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from nodeflow.models.diffusion_model import DiffusionModel
from nodeflow.models.patching import PatchedModule
from nodeflow.nodes.sampling_nodes import KSampler

DATA = Path(__file__).resolve().parent.parent / "data"
REFERENCE = json.loads((DATA / "ksampler_toy_reference.json").read_text())
TENSORS = load_file(str(DATA / "ksampler_toy_reference.safetensors"))
CASES = {case["key"]: case for case in REFERENCE["cases"]}


class ToyNetwork(torch.nn.Module):
    """eps = 0.5 * tanh(x_in) + 0.2 * sin(t / 100) + mean(context), per batch item."""

    def __init__(self) -> None:
        super().__init__()
        self.anchor = torch.nn.Parameter(torch.zeros(1))  # gives the module a dtype and device

    def forward(self, x, timestep, encoder_hidden_states=None, added_cond_kwargs=None, return_dict=False):
        t = timestep.reshape(-1, 1, 1, 1).to(x)
        c = encoder_hidden_states.mean(dim=(1, 2)).reshape(-1, 1, 1, 1).to(x)
        return (0.5 * torch.tanh(x) + 0.2 * torch.sin(t / 100) + c,)


def toy_model() -> DiffusionModel:
    return DiffusionModel(unet=PatchedModule(ToyNetwork()), family="sd1")


def conditioning(value: float) -> list:
    return [[torch.full((1, 77, 768), value), {}]]


def start_latent(case: dict) -> torch.Tensor:
    if case["latent"] == "zeros":
        return torch.zeros(1, 4, 8, 8)
    return TENSORS["init_latent"].clone()


def run_case(key: str) -> torch.Tensor:
    """NodeFlow's KSampler output for one reference case (a LATENT in ComfyUI's convention)."""
    case = CASES[key]
    node = KSampler()
    node.ctx = None
    out = node.run(
        toy_model(),
        case["seed"],
        case["steps"],
        case["cfg"],
        case["sampler"],
        case["scheduler"],
        conditioning(0.1),
        conditioning(-0.1),
        {"samples": start_latent(case)},
        case["denoise"],
    )
    return out["samples"] if isinstance(out, dict) else out[0]["samples"]


def expected(key: str) -> torch.Tensor:
    return TENSORS[key]
