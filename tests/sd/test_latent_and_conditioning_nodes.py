"""Latent and conditioning nodes, called directly (cheap), plus the conditioning options they set
taking effect in the sampler."""

import threading

import pytest
import torch

from nodeflow.engine.context import ExecutionContext
from nodeflow.nodes import conditioning as C
from nodeflow.nodes import latent_nodes as L
from nodeflow.nodes.latent_files import LoadLatent, SaveLatent
from nodeflow.sampling.guidance import Guider


def node(cls, env=None):
    obj = cls()
    obj.ctx = ExecutionContext("p", "1", lambda *a: None, threading.Event(), env=env)
    return obj


def cond(value=1.0, tokens=77, pooled=True):
    return [[torch.full((1, tokens, 32), value), {"pooled_output": torch.full((1, 32), value) if pooled else None}]]


def test_conditioning_arithmetic():
    a, b = cond(1.0), cond(3.0, tokens=154)
    assert len(node(C.ConditioningCombine).run(a, b)) == 2
    concat = node(C.ConditioningConcat).run(a, b)
    assert concat[0][0].shape == (1, 77 + 154, 32)
    avg = node(C.ConditioningAverage).run(a, b, 0.25)
    assert torch.allclose(avg[0][0], torch.full((1, 77, 32), 0.25 * 1 + 0.75 * 3))
    assert torch.allclose(avg[0][1]["pooled_output"], torch.full((1, 32), 2.5))
    zero = node(C.ConditioningZeroOut).run(a)
    assert zero[0][0].abs().sum() == 0 and zero[0][1]["pooled_output"].abs().sum() == 0
    area = node(C.ConditioningSetArea).run(a, 64, 128, 32, 8, 0.5)
    assert area[0][1]["area"] == (16, 8, 1, 4) and area[0][1]["strength"] == 0.5
    assert "area" not in a[0][1]  # inputs are not modified


class Recorder:
    """A stand-in MODEL that returns its context's mean as the eps prediction."""

    in_channels = latent_channels = 4
    prediction = "eps"

    def __init__(self):
        from nodeflow.sampling.schedules import DiscreteSchedule

        self.schedule = DiscreteSchedule.sd()

    def adm(self, *a):
        return None

    def apply(self, x, t, context, y=None, concat=None):
        return context.mean(dim=(1, 2)).view(-1, 1, 1, 1).expand_as(x).clone()


def test_area_conditioning_applies_only_inside_its_area_and_cfg_combines():
    model = Recorder()
    inside = node(C.ConditioningSetArea).run(cond(2.0), 64, 64, 0, 0, 1.0)  # top-left 8x8 latent pixels
    positive = cond(1.0) + inside
    guider = Guider(model, positive, cond(0.0), 3.0, (1, 4, 16, 16))
    sigma = torch.tensor([1.0])
    out = guider(torch.zeros(1, 4, 16, 16), sigma)
    # denoised = x - sigma * eps; eps is the weighted average of the positive conds, then CFG with uncond eps 0
    assert torch.allclose(out[..., :8, :8], torch.full((1, 4, 8, 8), -3.0 * 1.5))
    assert torch.allclose(out[..., 8:, 8:], torch.full((1, 4, 8, 8), -3.0 * 1.0))
    assert guider.calls == 1


def test_latent_resizing_composite_and_batches(env):
    samples = {"samples": torch.arange(2 * 4 * 8 * 8, dtype=torch.float32).reshape(2, 4, 8, 8)}
    up = node(L.LatentUpscale).run(samples, "nearest-exact", 128, 96, "disabled")
    assert up["samples"].shape == (2, 4, 12, 16)
    kept = node(L.LatentUpscale).run(samples, "bilinear", 0, 128, "disabled")
    assert kept["samples"].shape == (2, 4, 16, 16)
    cropped = node(L.LatentUpscale).run(samples, "area", 128, 64, "center")
    assert cropped["samples"].shape == (2, 4, 8, 16)
    for method in L.UPSCALE_METHODS:
        out = node(L.LatentUpscaleBy).run(samples, method, 1.5)["samples"]
        assert out.shape == (2, 4, 12, 12) and torch.isfinite(out).all()
    same = L.resize_latent(samples["samples"], 8, 8, "bislerp")
    assert torch.allclose(same, samples["samples"], atol=1e-3)  # slerp at the grid points is the identity
    dst = {"samples": torch.zeros(1, 4, 8, 8)}
    src = {"samples": torch.ones(1, 4, 4, 4)}
    comp = node(L.LatentComposite).run(dst, src, 16, 24, 0)["samples"]
    assert comp[0, 0, 3:7, 2:6].eq(1).all() and comp.sum() == 4 * 16
    feathered = node(L.LatentComposite).run(dst, src, 16, 24, 8)["samples"]
    assert feathered[0, 0, 3, 2] == 0.5 and feathered[0, 0, 5, 4] == 1.0
    rep = node(L.RepeatLatentBatch).run(samples, 3)
    assert rep["samples"].shape[0] == 6
    picked = node(L.LatentFromBatch).run(rep, 4, 2)
    assert picked["batch_index"] == [4, 5] and torch.equal(picked["samples"], rep["samples"][4:6])
    again = node(L.RepeatLatentBatch).run(picked, 2)
    assert again["batch_index"] == [4, 5, 6, 7]


def test_save_and_load_latent_round_trip(env):
    samples = {"samples": torch.randn(2, 4, 8, 8)}
    ui = node(SaveLatent, env).run(samples, "lat/x", prompt={"1": {}}).ui["latents"][0]
    path = env.output_dir / ui["subfolder"] / ui["filename"]
    (env.input_dir / "x.latent").write_bytes(path.read_bytes())
    loaded = node(LoadLatent, env).run("x.latent")
    assert torch.equal(loaded["samples"], samples["samples"])
    (env.input_dir / "bad.latent").write_bytes(b"not a latent")
    with pytest.raises(ValueError, match=r"not a readable \.latent"):
        node(LoadLatent, env).run("bad.latent")
    with pytest.raises(ValueError, match="outside"):
        node(SaveLatent, env).run(samples, "../escape")


def test_vae_encode_nodes_crop_to_a_multiple_of_8(tiny_ckpt_file):
    from nodeflow.models.loader import load_checkpoint

    _, _, vae = load_checkpoint(tiny_ckpt_file)
    pixels = torch.rand(1, 70, 90, 3)
    whole = node(L.VAEEncode).run(pixels, vae)["samples"]
    tiled = node(L.VAEEncodeTiled).run(pixels, vae, 64, 32)["samples"]
    assert whole.shape == tiled.shape == (1, 4, 8, 11)
    empty = node(L.EmptyLatentImage).run(72, 64, 3)["samples"]
    assert empty.shape == (3, 4, 8, 9) and empty.abs().sum() == 0
