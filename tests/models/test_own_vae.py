"""NodeFlow's own KL autoencoder (nodeflow/models/nets/vae.py) against diffusers' AutoencoderKL: the
same module tree, state-dict names and shapes, and bit-identical fp32 numbers for whole and tiled
encode/decode (with torch's kernels and with NodeFlow's fast ones), over SD-like, 16-channel
SD3/Flux-like and attention-free configs; full-size released layouts on the meta device; refusals;
and the loader building it (without importing diffusers) from single files."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from diffusers import AutoencoderKL

from nodeflow.models.convert_vae import vae_from_diffusers, vae_to_diffusers
from nodeflow.models.detect import _vae_config, detect_checkpoint
from nodeflow.models.kernels import use_kernels
from nodeflow.models.nets.vae import KLAutoencoder, supports
from nodeflow.models.vae_model import VAE
from tests.flow.tiny_flow import manifest


def _types(levels: int) -> dict:
    return {"down_block_types": ("DownEncoderBlock2D",) * levels, "up_block_types": ("UpDecoderBlock2D",) * levels}


CONFIGS = {
    # group counts as detect._vae_config picks them for these widths (the file-loading test relies on it)
    "sd": dict(block_out_channels=(16, 32, 32), layers_per_block=2, latent_channels=4, norm_num_groups=16, **_types(3)),
    "flux16": dict(
        block_out_channels=(16, 32, 32),
        layers_per_block=1,
        latent_channels=16,
        norm_num_groups=16,
        use_quant_conv=False,
        use_post_quant_conv=False,
        sample_size=1024,
        **_types(3),
    ),
    "no_mid_attention": dict(
        block_out_channels=(16, 32),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        mid_block_add_attention=False,
        **_types(2),
    ),
}


def names_and_shapes(module: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(k, tuple(v.shape)) for k, v in module.state_dict().items()]


def pair(name: str, seed: int = 0) -> tuple[AutoencoderKL, KLAutoencoder]:
    """diffusers' VAE with every weight perturbed (norms too), and ours loaded from it (strict)."""
    cfg = CONFIGS[name]
    torch.manual_seed(seed)
    ref = AutoencoderKL(**cfg).eval()
    with torch.no_grad():
        for p in ref.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    own = KLAutoencoder(**cfg).eval()
    assert names_and_shapes(own) == names_and_shapes(ref)
    assert [n for n, _ in own.named_modules()] == [n for n, _ in ref.named_modules()]
    own.load_state_dict(ref.state_dict(), strict=True)
    return ref, own


def set_tiles(net, pixels: int, latent: int, overlap: float) -> None:
    net.tile_sample_min_size, net.tile_latent_min_size, net.tile_overlap_factor = pixels, latent, overlap


def assert_same_numbers(ref, own, down: int, channels: int) -> None:
    torch.manual_seed(1)
    x = torch.randn(2, 3, 40, 24)
    z = torch.randn(2, channels, 40 // down + 1, 24 // down + 1)  # latents of sizes no image has
    with torch.no_grad():
        want, got = ref.encode(x).latent_dist, own.encode(x).latent_dist
        for part in ("mean", "logvar", "std", "var"):
            assert torch.equal(getattr(want, part), getattr(got, part)), part
        assert torch.equal(want.mode(), got.mode())
        assert torch.equal(ref.decode(z, return_dict=False)[0], own.decode(z, return_dict=False)[0])
        assert torch.equal(ref.decode(z).sample, own.decode(z).sample)
        assert torch.equal(
            ref.encode(x[:, :, :37, :21]).latent_dist.mean, own.encode(x[:, :, :37, :21]).latent_dist.mean
        )
        # 24-pixel tiles every 16 pixels, blended over a third of a tile: a grid of 3 x 2 tiles
        for net in (ref, own):
            set_tiles(net, 24, 24 // down, 1 / 3)
        tiled = own._tiled_encode(x)
        assert torch.equal(ref._tiled_encode(x), tiled)
        whole = ref.encode(x).latent_dist.parameters
        assert tiled.shape == whole.shape and not torch.equal(tiled, whole)
        for net in (ref, own):
            set_tiles(net, 8 * down, 8, 0.375)
        tiled = own.tiled_decode(z, return_dict=False)[0]
        assert torch.equal(ref.tiled_decode(z, return_dict=False)[0], tiled)
        whole = ref.decode(z).sample
        assert tiled.shape == whole.shape and not torch.equal(tiled, whole)
        # with use_tiling, encode/decode switch to tiles above the tile size, as diffusers' do
        for net in (ref, own):
            net.enable_tiling()
            net.enable_slicing()
        assert torch.equal(ref.encode(x).latent_dist.mean, own.encode(x).latent_dist.mean)
        assert torch.equal(ref.decode(z).sample, own.decode(z).sample)
        for net in (ref, own):
            net.disable_tiling()
            net.disable_slicing()
        g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
        assert torch.equal(ref(x, sample_posterior=True, generator=g1).sample, own(x, True, generator=g2).sample)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_same_tree_and_numbers_as_diffusers(name):
    ref, own = pair(name)
    down = 2 ** (len(CONFIGS[name]["block_out_channels"]) - 1)
    assert dict(own.config) == {k: v for k, v in ref.config.items() if not k.startswith("_")}
    assert own.config.latent_channels == ref.config.latent_channels
    assert (own.tile_sample_min_size, own.tile_latent_min_size) == (ref.tile_sample_min_size, ref.tile_latent_min_size)
    assert_same_numbers(ref, own, down, CONFIGS[name]["latent_channels"])


def test_same_numbers_with_nodeflow_kernels():
    name = "sd"  # quant convs and mid attention: every conv and linear kind the VAE has
    ref, own = pair(name, seed=3)
    assert use_kernels(ref) == use_kernels(own) > 0
    down = 2 ** (len(CONFIGS[name]["block_out_channels"]) - 1)
    assert_same_numbers(ref, own, down, CONFIGS[name]["latent_channels"])


@pytest.mark.parametrize("dtype", [torch.bfloat16])  # fp16 matches too, but convolves slowly on the CPU
def test_same_numbers_in_16_bits(dtype):
    ref, own = pair("sd", seed=5)
    ref, own = ref.to(dtype), own.to(dtype)
    x = torch.randn(2, 3, 40, 24, dtype=dtype)
    with torch.no_grad():
        z = ref.encode(x).latent_dist.mean
        assert z.dtype == dtype and torch.equal(z, own.encode(x).latent_dist.mean)
        assert torch.equal(ref.decode(z).sample, own.decode(z).sample)
        for net in (ref, own):
            set_tiles(net, 16, 4, 0.5)
        assert torch.equal(ref._tiled_encode(x), own._tiled_encode(x))
        assert torch.equal(ref.tiled_decode(z).sample, own.tiled_decode(z).sample)


def test_nodeflow_vae_wrapper_gives_the_same_images_and_latents():
    ref, own = pair("sd", seed=7)
    a, b = VAE(ref), VAE(own)
    pixels = torch.rand(2, 40, 24, 3)
    assert torch.equal(a.encode(pixels), b.encode(pixels))
    assert torch.equal(a.encode_tiled(pixels, tile_x=16, overlap=4), b.encode_tiled(pixels, tile_x=16, overlap=4))
    latent = a.encode(pixels)
    assert torch.equal(a.decode(latent), b.decode(latent))
    assert torch.equal(a.decode_tiled(latent, tile_x=4, overlap=1), b.decode_tiled(latent, tile_x=4, overlap=1))
    assert a.get_sd().keys() == b.get_sd().keys()


def meta_state(keys: dict, prefix: str = "") -> dict:
    return {k[len(prefix) :]: torch.empty(s, device="meta") for k, (s, _) in keys.items() if k.startswith(prefix)}


@pytest.mark.parametrize(
    "name,prefix,latent",
    [
        ("sd15_checkpoint_keys", "first_stage_model.", 4),
        ("sdxl_checkpoint_keys", "first_stage_model.", 4),
        ("sd35_medium_checkpoint_keys", "first_stage_model.", 16),
        ("flux_ae_keys", "", 16),
    ],
)
def test_full_size_released_vaes_on_meta(name, prefix, latent):
    keys = manifest(name)["keys"]
    if prefix:
        config = detect_checkpoint({k: tuple(s) for k, (s, _) in keys.items()}).vae_config
    else:
        config = _vae_config({k: tuple(s) for k, (s, _) in keys.items()})
    assert config["latent_channels"] == latent and supports(config) is None
    with torch.device("meta"):
        ref, own = AutoencoderKL(**config), KLAutoencoder(**config)
    assert names_and_shapes(own) == names_and_shapes(ref)
    state = vae_to_diffusers(meta_state(keys, prefix), config)
    assert sorted((k, tuple(v.shape)) for k, v in state.items()) == sorted(names_and_shapes(own))


@pytest.mark.parametrize(
    "change,key",
    [
        ({"act_fn": "gelu"}, "act_fn"),
        ({"down_block_types": ("AttnDownEncoderBlock2D", "DownEncoderBlock2D")}, "down_block_types"),
        ({"up_block_types": ("UpDecoderBlock2D",)}, "up_block_types"),
        ({"sample_size": (64, 32)}, "sample_size"),
        ({"norm_type": "spatial"}, "norm_type"),
    ],
)
def test_unsupported_configs_are_refused_with_their_reason(change, key):
    cfg = {**CONFIGS["no_mid_attention"], **change}
    reason = supports(cfg)
    assert reason is not None and key in reason
    with pytest.raises(ValueError, match=key):
        KLAutoencoder(**cfg)
    from nodeflow.models.loader import _vae_class

    if key != "norm_type":  # diffusers builds the others: the loader falls back to it
        assert _vae_class(cfg) is AutoencoderKL
    assert _vae_class(CONFIGS["sd"]) is KLAutoencoder


@pytest.mark.parametrize("name", ["sd", "flux16"])
def test_vae_files_load_into_the_own_network_without_diffusers(tmp_path, name):
    from safetensors.torch import save_file

    ref, _ = pair(name, seed=11)
    path = tmp_path / f"{name}.safetensors"
    save_file({k: v.contiguous() for k, v in vae_from_diffusers(ref.state_dict(), dict(ref.config)).items()}, path)
    script = (
        "import sys, torch\n"
        "from nodeflow.models.loader import load_vae_file\n"
        f"vae = load_vae_file({str(path)!r})\n"
        "torch.manual_seed(0)\n"
        "torch.save(vae.decode(torch.randn(1, vae.latent_channels, 5, 3)), sys.argv[1])\n"
        "print(type(vae.module).__name__, [m for m in ('diffusers', 'transformers') if m in sys.modules])\n"
    )
    out = tmp_path / "pixels.pt"
    done = subprocess.run([sys.executable, "-c", script, str(out)], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["KLAutoencoder", "[]"]
    torch.manual_seed(0)
    assert torch.equal(torch.load(out), VAE(ref).decode(torch.randn(1, ref.config.latent_channels, 5, 3)))


def test_sd1_checkpoint_loads_without_diffusers_or_transformers(tmp_path):
    """Issue #21's cold path: with the own UNet, CLIP text model and VAE, a single-file SD1 checkpoint
    loads (and its VAE decodes) in a fresh process that never imports either library."""
    from tests.sd.tiny import write_tiny_sd1

    path = write_tiny_sd1(tmp_path / "tiny.safetensors")
    script = (
        "import sys, torch\n"
        "from nodeflow.models.loader import load_checkpoint\n"
        f"model, clip, vae = load_checkpoint({str(path)!r})\n"
        "assert vae.decode(torch.zeros(1, 4, 8, 8)).shape == (1, 64, 64, 3)\n"
        "print(type(vae.module).__name__, [m for m in ('diffusers', 'transformers') if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["KLAutoencoder", "[]"]
