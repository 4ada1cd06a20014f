"""Upscale models: loading (spandrel detection, safe reading of .pth), tiled blending, the
out-of-memory fallback and the two nodes, with tiny models built at test time."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import pickle
import re
import threading
from functools import cache
from pathlib import Path

import pytest
import torch
from PIL import Image as PILImage
from safetensors.torch import save_file
from spandrel.architectures.Compact import Compact
from spandrel.architectures.ESRGAN import ESRGAN

from nodeflow.engine.context import ExecutionContext
from nodeflow.engine.executor import Engine
from nodeflow.engine.job import Job
from nodeflow.graph.validate import validate_prompt
from nodeflow.imaging.tiles import TileOutOfMemory, tile_layout, upscale_auto, upscale_tiled
from nodeflow.models.upscaler import load_upscale_model
from nodeflow.nodes import upscale as upscale_nodes
from nodeflow.nodes.upscale import ImageUpscaleWithModel, UpscaleModelLoader, compute_dtype
from nodeflow.schema.registry import builtin_registry
from tests.helpers.upscaler_files import reference, write_model

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "core_nodes_object_info.json"
OLD_TO_NEW = {"model.3.": "conv_up1.", "model.6.": "conv_up2.", "model.8.": "conv_hr.", "model.10.": "conv_last."}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These convolutions are tiny: on a loaded machine extra torch threads only spin (10x slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ---------------------------------------------------------------- tiny models


@cache
def rrdb() -> ESRGAN:
    """ESRGAN (RRDBNet) 4x, 8 features, 1 block; spandrel fixes the grow channels at 32."""
    torch.manual_seed(1)
    net = ESRGAN(num_filters=8, num_blocks=1, scale=4).eval()
    with torch.no_grad():
        net.model[10].bias.fill_(0.5)  # keep outputs inside 0..1 so the comparisons see every pixel
    return net


@cache
def compact(scale: int = 4) -> Compact:
    """Real-ESRGAN compact (SRVGGNetCompact): 8 features, 2 convolutions."""
    torch.manual_seed(2)
    return Compact(num_feat=8, num_conv=2, upscale=scale).eval()


def new_layout(state: dict) -> dict:
    """The old ESRGAN keys (model.N...) rewritten in the BasicSR RRDBNet layout (conv_first, body.N.rdbM...)."""
    out = {}
    for key, value in state.items():
        key = re.sub(r"^model\.0\.", "conv_first.", key)
        key = re.sub(r"^model\.1\.sub\.(\d+)\.RDB(\d)\.conv(\d)\.0\.", r"body.\1.rdb\2.conv\3.", key)
        key = re.sub(r"^model\.1\.sub\.1\.", "conv_body.", key)
        stem, _, leaf = key.rpartition(".")
        out[OLD_TO_NEW.get(stem + ".", stem + ".") + leaf] = value
    return out


def ramp_image(batch: int = 1, height: int = 70, width: int = 90, seed: int = 0) -> torch.Tensor:
    torch.manual_seed(seed)
    return torch.rand(batch, height, width, 3)


# ---------------------------------------------------------------- context helpers


class FakeModels:
    """A model manager stand-in: caches by key, records use()."""

    def __init__(self):
        self.device = torch.device("cpu")
        self.cache, self.loads, self.used = {}, [], []

    def load(self, key, factory):
        self.loads.append(key)
        if key not in self.cache:
            self.cache[key] = factory()
        return self.cache[key]

    @contextlib.contextmanager
    def use(self, module):
        self.used.append(module)
        yield module


def make_node(cls, env, models=None, events=None):
    obj = cls()
    sink = events.append if events is not None else (lambda *_: None)
    obj.ctx = ExecutionContext("p", "5", lambda t, d: sink((t, d)), threading.Event(), env=env, models=models)
    return obj


# ---------------------------------------------------------------- loading


@pytest.mark.parametrize(
    "name, state, wrap, prefix, arch, scale",
    [
        ("esrgan_old.safetensors", lambda: rrdb().state_dict(), None, "", "ESRGAN", 4),
        ("esrgan_old.pth", lambda: rrdb().state_dict(), None, "module.", "ESRGAN", 4),
        ("esrgan_new.pth", lambda: new_layout(rrdb().state_dict()), "params_ema", "", "ESRGAN", 4),
        ("esrgan_new.safetensors", lambda: new_layout(rrdb().state_dict()), None, "", "ESRGAN", 4),
        ("compact_x2.safetensors", lambda: compact(2).state_dict(), None, "", "Compact", 2),
        ("compact_x4.pth", lambda: compact(4).state_dict(), "params", "", "Compact", 4),
    ],
)
def test_loader_detects_each_layout_and_keeps_the_weights(env, name, state, wrap, prefix, arch, scale):
    path = write_model(env, name, state(), wrap, prefix)
    descriptor = load_upscale_model(path)
    assert descriptor.architecture.id == arch and descriptor.scale == scale
    assert descriptor.supports_half and descriptor.supports_bfloat16
    net = rrdb() if arch == "ESRGAN" else compact(scale)
    x = torch.rand(1, 3, 12, 10)
    with torch.no_grad():
        assert torch.allclose(descriptor(x), net(x).clamp(0, 1), atol=1e-6)


def test_loader_node_uses_the_model_manager_and_fingerprints_size_and_mtime(env):
    path = write_model(env, "x4.safetensors", compact(4).state_dict())
    models = FakeModels()
    first = make_node(UpscaleModelLoader, env, models).run(model_name="x4.safetensors")
    again = make_node(UpscaleModelLoader, env, models).run(model_name="x4.safetensors")
    stat = path.stat()
    assert first is again and models.loads == [("upscale", str(path), stat.st_mtime_ns, stat.st_size)] * 2
    before = UpscaleModelLoader.fingerprint(env, model_name="x4.safetensors")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert UpscaleModelLoader.fingerprint(env, model_name="x4.safetensors") != before
    assert UpscaleModelLoader.fingerprint(env, model_name="missing.pth") != UpscaleModelLoader.fingerprint(
        env, model_name="missing.pth"
    )  # nan: never cached
    assert make_node(UpscaleModelLoader, env, None).run(model_name="x4.safetensors").scale == 4


def test_bad_files_give_value_errors_naming_the_file(env):
    folder = env.models_dir / "upscale_models"
    (folder / "noise.safetensors").write_bytes(os.urandom(2048))
    good = write_model(env, "good.safetensors", compact(4).state_dict())
    (folder / "truncated.safetensors").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (folder / "notes.pth").write_text("these are not weights\n")
    save_file({"foo.weight": torch.zeros(3, 3)}, str(folder / "other.safetensors"))
    for name, words in [
        ("noise.safetensors", "not a valid .safetensors"),
        ("truncated.safetensors", "not a valid .safetensors"),
        ("notes.pth", "notes.pth"),
        ("other.safetensors", "not a supported upscale model"),
    ]:
        with pytest.raises(ValueError) as info:
            load_upscale_model(folder / name)
        assert name in str(info.value) and words in str(info.value)
    with pytest.raises(ValueError, match=r"^model_name: .*other\.safetensors.*ESRGAN"):
        make_node(UpscaleModelLoader, env).run(model_name="other.safetensors")
    with pytest.raises(ValueError, match=r"^model_name: .*absent\.pth"):
        make_node(UpscaleModelLoader, env).run(model_name="absent.pth")


def _make_marker(path: str) -> str:  # what the malicious pickles below would call on unpickling
    Path(path).write_text("pickled code ran")
    return path


class Payload:
    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return _make_marker, (self.marker,)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_pickle_with_code_is_refused_without_running_it(env, tmp_path):
    folder = env.models_dir / "upscale_models"
    marker = tmp_path / "marker.txt"
    torch.save({**compact(4).state_dict(), "extra": Payload(marker)}, str(folder / "evil.pth"))
    with pytest.raises(ValueError, match=r"evil\.pth contains pickled code .*refused.*\.safetensors"):
        load_upscale_model(folder / "evil.pth")
    with open(folder / "evil_plain.pth", "wb") as f:  # a plain pickle, not torch.save
        pickle.dump({"body.0.weight": Payload(marker)}, f)
    with pytest.raises(ValueError, match=r"evil_plain\.pth .*\.safetensors"):
        load_upscale_model(folder / "evil_plain.pth")
    with pytest.raises(ValueError, match=r"^model_name: evil\.pth contains pickled code"):
        make_node(UpscaleModelLoader, env).run(model_name="evil.pth")
    assert not marker.exists()
    torch.load(str(folder / "evil.pth"), weights_only=False)  # the payload is live: a full unpickle runs it
    assert marker.exists()


# ---------------------------------------------------------------- tiles


def test_tile_layout_covers_evenly_inside_the_image():
    assert tile_layout(20, 32, 8) == (20, [0])
    assert tile_layout(70, 32, 8) == (29, [0, 20, 41])  # 3 tiles of <= 32 with >= 8 shared
    assert tile_layout(90, 32, 16) == (31, [0, 14, 29, 44, 59])
    for size in range(1, 300, 7):
        for tile, overlap in [(32, 8), (64, 32), (33, 0), (512, 32)]:
            length, starts = tile_layout(size, tile, overlap)
            assert length <= tile and starts[0] == 0 and starts[-1] + length == size
            assert all(0 < b - a <= length - overlap for a, b in itertools.pairwise(starts))


def test_tiled_compact_equals_untiled():
    """Compact with 2 convolutions sees 4 pixels around each pixel; overlap 16 discards the outer
    16 // 4 = 4 pixels of every cut edge, so tiled and untiled agree up to float rounding."""
    net, image = compact(4), ramp_image().movedim(-1, 1)
    with torch.no_grad():
        full = net(image).clamp(0, 1)

        def fn(t):
            return net(t).clamp(0, 1)

        exact = upscale_tiled(fn, image, 4, tile=32, overlap=16)
        assert exact.shape == full.shape == (1, 3, 280, 360)
        assert (exact - full).abs().max() < 1e-5
        # overlap 8 discards only 2 pixels (< the 4 the network sees): not exact, but the cross-fade
        # keeps it far below the seams of plain non-overlapping tiles
        feathered = (upscale_tiled(fn, image, 4, tile=32, overlap=8) - full).abs()
        seams = (upscale_tiled(fn, image, 4, tile=32, overlap=0) - full).abs()
        assert feathered.mean() < seams.mean() / 5 and feathered.max() < seams.max() / 4


def test_tiled_rrdb_equals_untiled_within_tolerance():
    """RRDBNet (1 block) sees ~18 input pixels around each pixel, more than the 4 that overlap 16
    discards, so equality is not guaranteed; but every dense block and RRDB adds its branch scaled
    by 0.2, so far pixels weigh little: measured max difference ~1e-6 (seeds 0-2); 1e-4 leaves margin.
    Without overlap the difference is ~6e-2, so the check is meaningful."""
    net, image = rrdb(), ramp_image().movedim(-1, 1)
    with torch.no_grad():
        full = net(image).clamp(0, 1)
        tiled = upscale_tiled(lambda t: net(t).clamp(0, 1), image, 4, tile=32, overlap=16)
    assert tiled.shape == (1, 3, 280, 360)
    assert (tiled - full).abs().max() < 1e-4


def test_batch_progress_and_small_images():
    net = compact(2)
    image = ramp_image(batch=2, height=70, width=90).movedim(-1, 1)
    calls = []
    with torch.no_grad():
        out = upscale_tiled(
            lambda t: net(t).clamp(0, 1),
            image,
            2,
            tile=32,
            overlap=8,
            progress=lambda done, total: calls.append((done, total)),
        )
        singles = [net(image[i : i + 1]).clamp(0, 1) for i in range(2)]
        small = upscale_tiled(lambda t: net(t), image[:, :, :20, :25], 2, tile=32, overlap=8)
    assert out.shape == (2, 3, 140, 180)
    for i in range(2):
        assert (out[i : i + 1] - singles[i]).abs().max() < 1e-2  # overlap 8: see the compact test above
    assert calls == [(i, 12) for i in range(1, 13)]  # 3 rows x 4 columns of 29 x 29 pixels
    assert small.shape == (2, 3, 40, 50)


def nearest(scale: int):
    return lambda t: t.repeat_interleave(scale, -1).repeat_interleave(scale, -2)


def test_out_of_memory_halves_the_tile_down_to_the_minimum():
    image = torch.rand(1, 3, 300, 300)
    seen = []

    def fn(tile):
        seen.append(max(tile.shape[-2:]))
        if max(tile.shape[-2:]) > 100:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return nearest(2)(tile)

    out = upscale_auto(fn, image, 2, tile=512, overlap=16)
    # 512 covers the image in one 300 px tile; half of that (150) lays out as 3 tiles of 111, half of
    # 111 is below the 64 px minimum: 64 px tiles fit
    assert sorted(set(seen), reverse=True) == [300, 111, 64]
    assert torch.allclose(out, nearest(2)(image), atol=1e-6)

    def other_backend(tile):
        if max(tile.shape[-2:]) > 64:
            raise RuntimeError("MPS backend out of memory (MPS allocated: 1 GB)")
        return nearest(2)(tile)

    assert upscale_auto(other_backend, image, 2, tile=128, overlap=8).shape == (1, 3, 600, 600)

    def never_fits(tile):
        raise torch.OutOfMemoryError("out of memory")

    with pytest.raises(TileOutOfMemory, match=r"even with 6\dx6\d pixel tiles"):
        upscale_auto(never_fits, image, 2, tile=512)

    def broken(tile):
        seen.append("broken")
        raise RuntimeError("expected input to have 3 channels")

    seen.clear()
    with pytest.raises(RuntimeError, match="3 channels"):
        upscale_auto(broken, image, 2, tile=512)
    assert seen == ["broken"]  # other errors are not retried


# ---------------------------------------------------------------- nodes


def test_upscale_node_gives_exact_scale_batches_and_reports_each_tile(env, monkeypatch):
    write_model(env, "x4.safetensors", compact(4).state_dict())
    model = make_node(UpscaleModelLoader, env).run(model_name="x4.safetensors")
    image = ramp_image(batch=2, height=13, width=17)
    out = make_node(ImageUpscaleWithModel, env).run(upscale_model=model, image=image)
    assert out.shape == (2, 52, 68, 3) and out.dtype == torch.float32
    assert (out - reference(compact(4), image)).abs().max() < 1e-5
    assert out.min() >= 0 and out.max() <= 1

    monkeypatch.setattr(upscale_nodes, "TILE_CPU", 32)
    monkeypatch.setattr(upscale_nodes, "OVERLAP", 16)
    events, models = [], FakeModels()
    image = ramp_image(height=40, width=50)
    out = make_node(ImageUpscaleWithModel, env, models, events).run(upscale_model=model, image=image)
    progress = [(d["value"], d["max"]) for t, d in events if t == "progress"]
    assert progress == [(i, 6) for i in range(1, 7)]  # rows [0, 12] x columns [0, 11, 22] of 28 x 28
    assert models.used == [model.model]
    assert (out - reference(compact(4), image)).abs().max() < 1e-5

    rgba = torch.cat([image, torch.ones(1, 40, 50, 1)], dim=-1)
    out = make_node(ImageUpscaleWithModel, env).run(upscale_model=model, image=rgba)
    assert out.shape == (1, 160, 200, 4) and torch.allclose(out[..., 3], torch.ones(1, 160, 200))
    with pytest.raises(ValueError, match=r"^image: .*2 channels"):
        make_node(ImageUpscaleWithModel, env).run(upscale_model=model, image=image[..., :2])
    with pytest.raises(ValueError, match=r"^upscale_model: .*Load Upscale Model"):
        make_node(ImageUpscaleWithModel, env).run(upscale_model="x4.safetensors", image=image)


def test_half_precision_only_on_cuda_and_when_supported(monkeypatch):
    class Descriptor:
        supports_half, supports_bfloat16 = True, True

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert compute_dtype(Descriptor(), torch.device("cpu")) == torch.float32
    assert compute_dtype(Descriptor(), torch.device("cuda")) == torch.bfloat16
    Descriptor.supports_bfloat16 = False
    assert compute_dtype(Descriptor(), torch.device("cuda")) == torch.float16
    Descriptor.supports_half = False
    assert compute_dtype(Descriptor(), torch.device("cuda")) == torch.float32


def test_nodes_match_the_reference_object_info(env):
    registry, ref = builtin_registry(), json.loads(REFERENCE.read_text())
    for name in ("UpscaleModelLoader", "ImageUpscaleWithModel"):
        ours, theirs = registry.get(name).object_info(env), ref[name]
        assert list(ours["input"]["required"]) == list(theirs["input"]["required"])
        assert ours["input_order"] == theirs["input_order"]
        for key in ("output", "output_is_list", "output_name", "category", "output_node", "display_name"):
            assert ours[key] == theirs[key], (name, key)
    assert registry.get("ImageUpscaleWithModel").object_info(env)["input"]["required"] == {
        "upscale_model": ["UPSCALE_MODEL", {}],
        "image": ["IMAGE", {}],
    }
    write_model(env, "a.safetensors", compact(2).state_dict())
    assert registry.get("UpscaleModelLoader").object_info(env)["input"]["required"]["model_name"][0] == [
        "a.safetensors"
    ]


def test_nodes_run_through_the_engine(env):
    write_model(env, "x4.pth", new_layout(rrdb().state_dict()), wrap="params_ema")
    registry = builtin_registry()
    prompt = {
        "1": {"class_type": "UpscaleModelLoader", "inputs": {"model_name": "x4.pth"}},
        "2": {"class_type": "EmptyImage", "inputs": {"width": 24, "height": 16, "batch_size": 1, "color": 0x336699}},
        "3": {"class_type": "ImageUpscaleWithModel", "inputs": {"upscale_model": ["1", 0], "image": ["2", 0]}},
        "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "up"}},
    }
    assert validate_prompt(registry, env, prompt).ok
    engine = Engine(registry, env)

    def execute(prompt_id):
        events = []
        job = Job(prompt_id=prompt_id, prompt=prompt, outputs_to_execute=["4"])
        return engine.execute(job, lambda t, d: events.append((t, d)), threading.Event()), events

    result, events = execute("a")
    assert result.status == "success", result.error
    saved = result.outputs["4"]["images"][0]
    with PILImage.open(env.output_dir / saved.get("subfolder", "") / saved["filename"]) as img:
        assert img.size == (96, 64)
    assert [d["node"] for t, d in events if t == "progress"] == ["3"]
    result, _ = execute("b")
    assert result.executed == [] and {"1", "3"} <= set(result.cached)
