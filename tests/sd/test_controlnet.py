"""ControlNets and T2I-Adapters on the tiny SD1 model: every released layout loads to the same
network, strength 0 is exactly the plain result, strength and the step range change the output
where they should, chains add up, families are checked, and the nodes behave as ComfyUI's."""

from __future__ import annotations

import pytest
import torch

from nodeflow.models.checkpoint_file import ModelFileError
from nodeflow.models.control_files import load_control_file
from nodeflow.models.loader import load_checkpoint
from nodeflow.nodes.controlnet_nodes import ControlNetApply, ControlNetApplyAdvanced
from nodeflow.nodes.preprocessors import canny_edges
from nodeflow.sampling.run import SampleRequest, ksampler_sigmas, sample_with_sigmas

from .tiny_control import CONTROL_SDXL, write_adapter_tencentarc, write_controlnet_diffusers, write_controlnet_ldm

STEPS = 3


@pytest.fixture(scope="module")
def tiny(tiny_ckpt_file):
    model, clip, _ = load_checkpoint(tiny_ckpt_file)
    positive = [[clip.encode("a red star")[0], {}]]
    negative = [[clip.encode("blurry")[0], {}]]
    return model, positive, negative


@pytest.fixture(scope="module")
def plain(tiny):
    model, positive, negative = tiny
    return sample(model, positive, negative)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("controlnets")
    return {
        "ldm": write_controlnet_ldm(d / "cn_prefixed.safetensors"),
        "ldm_bare": write_controlnet_ldm(d / "cn_bare.safetensors", prefix=False),
        "pth": write_controlnet_ldm(d / "cn.pth"),
        "diffusers": write_controlnet_diffusers(d / "cn_diffusers.safetensors"),
        "folder": write_controlnet_diffusers(d / "cn_folder", folder=True),
        "other": write_controlnet_ldm(d / "cn_other.safetensors", seed=5),
        "xl": write_controlnet_diffusers(d / "cn_xl.safetensors", config=CONTROL_SDXL),
        "t2i": write_adapter_tencentarc(d / "t2i.pth"),
    }


@pytest.fixture(scope="module")
def cn(files):
    return load_control_file(files["ldm"])


def hint(seed=0, batch=1, h=64, w=64):
    return torch.rand(batch, 3, h, w, generator=torch.Generator().manual_seed(seed))


def sample(model, positive, negative, batch=1, callback=None, cfg=5.0):
    latent = {"samples": torch.zeros(batch, 4, 8, 8)}
    sigmas = ksampler_sigmas(model, "normal", STEPS)
    return sample_with_sigmas(SampleRequest(model, positive, negative, latent, seed=3, cfg=cfg), sigmas, callback)[
        "samples"
    ]


def with_control(conditioning, control):
    return [[c, {**o, "control": control}] for c, o in conditioning]


def controlled(tiny, control):
    model, positive, negative = tiny
    return sample(model, with_control(positive, control), with_control(negative, control))


def residuals(control, tiny, sigma=5.0):
    model, positive, _ = tiny
    x = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    return control.residuals(model, x, torch.tensor([500.0]), sigma, positive[0][0], None, 1)


def test_every_released_layout_loads_to_the_same_network(files, tiny):
    loaded = {name: load_control_file(files[name]) for name in ("ldm", "ldm_bare", "pth", "diffusers", "folder")}
    assert {(c.layout.kind, c.family.name) for c in loaded.values()} == {("controlnet", "sd1")}
    assert [c.layout.layout for c in loaded.values()] == ["ldm", "ldm", "ldm", "diffusers", "diffusers"]
    weights = [c.network.state_dict() for c in loaded.values()]
    for w in weights[1:]:  # the same weights under the same names
        assert w.keys() == weights[0].keys() and all(torch.equal(w[k], weights[0][k]) for k in w)
    h = hint()
    results = [residuals(c.copy().set_cond_hint(h), tiny) for c in loaded.values()]
    for r in results[1:]:  # (a .pth loads memory-mapped: kernels may round differently in the last bit)
        assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(r.down, results[0].down, strict=False))
        assert torch.allclose(r.mid, results[0].mid, atol=1e-5)
    assert len(results[0].down) == 4 and results[0].mid.abs().sum() > 0  # conv_in, res, downsampler, res


def test_strength_zero_is_exactly_the_plain_result(tiny, cn, files, plain):
    _model, positive, negative = tiny
    for control in (cn, load_control_file(files["t2i"])):  # through the residual path, not a shortcut
        assert torch.equal(controlled(tiny, control.copy().set_cond_hint(hint(), 0.0)), plain)
    # and the node returns the conditioning untouched, as ComfyUI's does
    pos, neg = ControlNetApplyAdvanced().run(positive, negative, cn, hint().movedim(1, -1), 0.0, 0.0, 1.0)
    assert pos is positive and neg is negative


def test_strength_scales_the_residuals_and_changes_the_image(tiny, cn, plain):
    full, half = (controlled(tiny, cn.copy().set_cond_hint(hint(), s)) for s in (1.0, 0.5))
    assert (full - plain).abs().max() > 0.05 and (half - plain).abs().max() > 0.01
    assert (full - half).abs().max() > 0.01
    r1, r_half = (residuals(cn.copy().set_cond_hint(hint(), s), tiny) for s in (1.0, 0.5))
    assert torch.allclose(r_half.mid, 0.5 * r1.mid) and all(
        torch.allclose(a, 0.5 * b) for a, b in zip(r_half.down, r1.down, strict=False)
    )
    r_other = residuals(cn.copy().set_cond_hint(hint(seed=9), 1.0), tiny)  # the hint image matters
    assert (r_other.down[0] - r1.down[0]).abs().max() > 1e-3 * r1.down[0].abs().max()


def test_the_step_range_limits_where_the_control_acts(tiny, cn):
    model, positive, negative = tiny
    calls = []
    hook = cn.network.register_forward_hook(lambda *a: calls.append(1))
    seen = {"plain": [], "late": []}
    try:
        plain_out = sample(model, positive, negative, callback=lambda i, x, d, n: seen["plain"].append(d.clone()))
        late = cn.copy().set_cond_hint(hint(), 1.0, (0.5, 1.0))
        out = sample(
            model,
            with_control(positive, late),
            with_control(negative, late),
            callback=lambda i, x, d, n: seen["late"].append(d.clone()),
        )
    finally:
        hook.remove()
    sigmas = ksampler_sigmas(model, "normal", STEPS)[:-1]
    threshold = model.schedule.percent_to_sigma(0.5)
    acting = [float(s) <= threshold for s in sigmas]
    assert acting[0] is False and any(acting)
    assert len(calls) == sum(acting)  # one batched (cond + uncond) ControlNet call per step in range
    first_late = acting.index(True)
    for step in range(first_late):  # before the range the run is the plain one, bit for bit
        assert torch.equal(seen["late"][step], seen["plain"][step])
    assert (seen["late"][first_late] - seen["plain"][first_late]).abs().max() > 1e-3
    assert (out - plain_out).abs().max() > 1e-3


@pytest.mark.slow  # 8-22 s of CPU: several ControlNet samplings
def test_chained_controls_add_their_residuals(tiny, cn, files):
    other = load_control_file(files["other"])
    a = cn.copy().set_cond_hint(hint(1), 1.0)
    b = other.copy().set_cond_hint(hint(2), 0.7)
    chain = other.copy().set_cond_hint(hint(2), 0.7).set_previous_controlnet(a)
    assert chain.get_models() == [cn.network, other.network]
    r_a, r_b, r_chain = residuals(a, tiny), residuals(b, tiny), residuals(chain, tiny)
    assert torch.allclose(r_chain.mid, r_a.mid + r_b.mid)
    assert all(torch.allclose(c, x + y) for c, x, y in zip(r_chain.down, r_a.down, r_b.down, strict=False))
    silent = other.copy().set_cond_hint(hint(2), 0.0).set_previous_controlnet(a)
    assert torch.equal(controlled(tiny, silent), controlled(tiny, a))
    both = controlled(tiny, chain)
    assert (both - controlled(tiny, a)).abs().max() > 1e-3 and (both - controlled(tiny, b)).abs().max() > 1e-3


def test_apply_nodes_chain_and_share_one_control_for_both_sides(tiny, cn, files):
    _model, positive, negative = tiny
    image = hint().movedim(1, -1)
    pos, neg = ControlNetApplyAdvanced().run(positive, negative, cn, image, 0.8, 0.1, 0.9)
    first = pos[0][1]["control"]
    assert neg[0][1]["control"] is first and first.previous_controlnet is None
    assert (first.strength, first.timestep_percent_range) == (0.8, (0.1, 0.9))
    assert "control" not in positive[0][1]  # inputs are not modified
    pos2, neg2 = ControlNetApplyAdvanced().run(pos, neg, load_control_file(files["t2i"]), image, 0.5, 0.0, 1.0)
    assert pos2[0][1]["control"].previous_controlnet is first and neg2[0][1]["control"] is pos2[0][1]["control"]


@pytest.mark.slow  # 8-22 s of CPU: several ControlNet samplings
def test_old_apply_node_guides_the_negative_too(tiny, cn):
    model, positive, negative = tiny
    image = hint().movedim(1, -1)
    old = ControlNetApply().run(positive, cn, image, 1.0)
    assert old[0][1]["control_apply_to_uncond"] is True
    new_pos, new_neg = ControlNetApplyAdvanced().run(positive, negative, cn, image, 1.0, 0.0, 1.0)
    assert torch.equal(sample(model, old, negative), sample(model, new_pos, new_neg))
    positive_only = sample(model, new_pos, negative)
    assert (positive_only - sample(model, new_pos, new_neg)).abs().max() > 1e-3


def test_t2i_adapter_guides_and_greys_an_rgb_hint(tiny, files, plain):
    _model, _positive, _negative = tiny
    adapter = load_control_file(files["t2i"])
    assert (adapter.layout.kind, adapter.layout.config["in_channels"]) == ("t2i_adapter", 1)
    rgb = hint(4)
    grey = rgb.mean(dim=1, keepdim=True).repeat(1, 3, 1, 1)
    out = controlled(tiny, adapter.copy().set_cond_hint(rgb, 1.0))
    assert (out - plain).abs().max() > 1e-2
    assert torch.allclose(controlled(tiny, adapter.copy().set_cond_hint(grey, 1.0)), out, atol=1e-5)


def test_hint_is_fitted_to_the_latent_size_and_batch(tiny, cn):
    model, positive, negative = tiny
    wide = torch.rand(1, 3, 48, 96, generator=torch.Generator().manual_seed(6))  # another size and aspect
    one = cn.copy().set_cond_hint(wide, 1.0)
    two = cn.copy().set_cond_hint(torch.cat([wide, wide]), 1.0)
    batched_one = sample(model, with_control(positive, one), with_control(negative, one), batch=2)
    batched_two = sample(model, with_control(positive, two), with_control(negative, two), batch=2)
    assert batched_one.shape == (2, 4, 8, 8) and torch.allclose(batched_one, batched_two, atol=1e-5)


def test_a_control_of_another_family_is_refused_with_the_fix(tiny, files):
    xl = load_control_file(files["xl"])
    assert xl.family.name == "sdxl" and xl.layout.layout == "diffusers"
    with pytest.raises(
        ValueError,
        match=r"made for Stable Diffusion XL models but the model is Stable Diffusion 1\.x: "
        r"load a ControlNet made for Stable Diffusion 1\.x",
    ):
        controlled(tiny, xl.copy().set_cond_hint(hint(), 1.0))
    # the SDXL ControlNet itself runs with SDXL's extra conditioning (pooled text + size ids)
    model = tiny[0]
    y = {"text_embeds": torch.randn(2, 64), "time_ids": torch.tensor([[64.0, 64, 0, 0, 64, 64]] * 2)}
    r = (
        xl.copy()
        .set_cond_hint(hint(), 1.0)
        .residuals(model, torch.randn(2, 4, 8, 8), torch.tensor([500.0, 500.0]), 5.0, torch.randn(2, 77, 64), y, 2)
    )
    assert [tuple(d.shape) for d in r.down] == [(2, 32, 8, 8)] * 2 + [(2, 32, 4, 4), (2, 64, 4, 4)]
    assert r.mid.shape == (2, 64, 4, 4) and r.mid.abs().sum() > 0


def test_sdxl_t2i_adapter_in_the_diffusers_layout(tmp_path, tiny):
    from safetensors.torch import save_file

    from .tiny_control import tiny_adapter

    path = tmp_path / "t2i_sdxl.safetensors"
    save_file({k: v.contiguous() for k, v in tiny_adapter(in_channels=3, xl=True).state_dict().items()}, str(path))
    adapter = load_control_file(path)
    assert (
        adapter.family.name,
        adapter.layout.layout,
        adapter.layout.config["adapter_type"],
        adapter.layout.config["in_channels"],
    ) == ("sdxl", "diffusers", "full_adapter_xl", 3)
    with pytest.raises(ValueError, match=r"T2I-Adapter 't2i_sdxl\.safetensors' was made for Stable Diffusion XL"):
        controlled(tiny, adapter.copy().set_cond_hint(hint(), 1.0))


def test_diff_controlnet_is_completed_with_the_model_weights(tmp_path, tiny, files):
    model = tiny[0]
    base = {k: model.unet.original(k) for k, _ in model.unet.module.named_parameters()}
    diff = write_controlnet_ldm(tmp_path / "cn_diff.safetensors", difference_to=base)
    with pytest.raises(ModelFileError, match=r"diff ControlNet .* Load ControlNet Model \(diff\)"):
        load_control_file(diff)
    completed = load_control_file(diff, model=model)
    full = load_control_file(files["ldm"])
    r_diff = residuals(completed.copy().set_cond_hint(hint()), tiny)
    r_full = residuals(full.copy().set_cond_hint(hint()), tiny)
    assert torch.allclose(r_diff.mid, r_full.mid, atol=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(r_diff.down, r_full.down, strict=False))


def test_canny_draws_the_edges_of_a_square():
    image = torch.zeros(1, 64, 64, 3)
    image[:, 16:48, 16:48] = 1.0
    edges = canny_edges(image, 0.2, 0.5)
    assert edges.shape == (1, 64, 64, 3) and set(edges.unique().tolist()) <= {0.0, 1.0}
    ring = edges[0, :, :, 0]
    assert ring[14:18, 20:44].sum() > 0 and ring[46:50, 20:44].sum() > 0  # top and bottom borders
    assert ring[24:40, 24:40].sum() == 0 and ring[:8].sum() == 0  # nothing inside or far away
    with pytest.raises(ValueError, match="low_threshold"):
        canny_edges(image, 0.6, 0.3)


def test_comfyui_module_names_for_packs(files, tiny):
    from nodeflow.comfy_compat import install

    install()
    import comfy.controlnet
    import nodes

    _model, positive, negative = tiny
    control = comfy.controlnet.load_controlnet(str(files["ldm"]))
    image = hint().movedim(1, -1)
    pos, neg = nodes.ControlNetApplyAdvanced().apply_controlnet(positive, negative, control, image, 0.7, 0.0, 0.5)
    applied = pos[0][1]["control"]
    assert neg[0][1]["control"] is applied and (applied.strength, applied.timestep_percent_range) == (0.7, (0.0, 0.5))
    (old,) = nodes.ControlNetApply().apply_controlnet(positive, control, image, 0.7)
    assert old[0][1]["control_apply_to_uncond"] is True
    assert nodes.ControlNetLoader.FUNCTION == "load_controlnet" and nodes.ControlNetApplyAdvanced.RETURN_NAMES == (
        "positive",
        "negative",
    )
    with pytest.raises(FileNotFoundError):
        comfy.controlnet.load_controlnet("/nonexistent/cn.safetensors")
    (typed,) = nodes.SetUnionControlNetType().set_controlnet_type(control, "depth")
    assert typed is not control and typed.extra_args == {"control_type": [1]} and control.extra_args == {}
    assert nodes.SetUnionControlNetType().set_controlnet_type(typed, "auto")[0].extra_args == {"control_type": []}
    edges = nodes.NODE_CLASS_MAPPINGS["Canny"]().detect_edge(image, 0.2, 0.5)[0]
    assert edges.shape == (1, 64, 64, 3)
