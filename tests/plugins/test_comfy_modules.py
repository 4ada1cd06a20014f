"""The ComfyUI module shims in-process, against a real runtime binding (Folders, registry): the
live folder registry, resizing/tiling helpers, progress hooks, interrupts, V1 calls of core nodes,
type names, helpers, and the names given for missing API."""

import importlib
import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from nodeflow.comfy_compat import MissingComfySymbol, binding, explain_import_error, install
from nodeflow.engine.context import ExecutionContext, Interrupted, running
from nodeflow.folders import Folders
from nodeflow.schema.registry import builtin_registry

install()
import comfy.model_management as mm  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
import comfy.utils  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
import folder_paths  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
import node_helpers  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
import nodes  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy.cli_args import args  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path
from comfy.comfy_types import IO, CheckLazyMixin, ComfyNodeABC  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path

REGISTRY = builtin_registry()


@pytest.fixture
def env(tmp_path):
    folders = Folders(tmp_path)
    folders.ensure()
    binding.bind(folders, None, REGISTRY, custom_node_folders=(tmp_path / "custom_nodes",))
    yield folders
    binding.bind(None, None, None)


def test_folder_registry_is_a_live_view_of_the_folders(env, tmp_path):
    registry = folder_paths.folder_names_and_paths
    assert folder_paths.models_dir == str(tmp_path / "models") and folder_paths.base_path == str(tmp_path)
    assert "diffusion_models" in list(registry) and "unet" not in list(registry) and "unet" in registry
    assert registry["clip"][0] == registry["text_encoders"][0] == [str(p) for p in env.model_paths["text_encoders"]]
    registry["checkpoints"][0].append(str(tmp_path / "elsewhere"))
    assert env.model_paths["checkpoints"][-1] == tmp_path / "elsewhere"
    env.add_model_path("checkpoints", tmp_path / "later")
    assert registry["checkpoints"][0][-1] == str(tmp_path / "later")  # NodeFlow's additions show up too
    (tmp_path / "gguf").mkdir()
    for name in ("m.gguf", "notes.txt"):
        (tmp_path / "gguf" / name).write_text("x")
    registry["unet_gguf"] = ([str(tmp_path / "gguf")], {".gguf"})
    assert folder_paths.get_filename_list("unet_gguf") == env.list_files("unet_gguf") == ["m.gguf"]
    registry["unet_gguf"][1].add(".txt")
    assert env.list_files("unet_gguf") == ["m.gguf", "notes.txt"]
    del registry["unet_gguf"]
    assert "unet_gguf" not in env.model_paths and registry.get("unet_gguf") is None
    with pytest.raises(KeyError):
        folder_paths.get_folder_paths("unet_gguf")
    folder_paths.add_model_folder_path("loras", str(tmp_path / "first"), is_default=True)
    assert folder_paths.get_folder_paths("loras")[0] == str(tmp_path / "first")
    assert folder_paths.get_folder_paths("custom_nodes") == [str(tmp_path / "custom_nodes")]
    (tmp_path / "custom_nodes" / "pack").mkdir(parents=True)
    (tmp_path / "custom_nodes" / "pack" / "__init__.py").write_text("")
    assert folder_paths.get_filename_list("custom_nodes") == ["pack/__init__.py"]
    assert folder_paths.get_full_path("custom_nodes", "pack/__init__.py").endswith("pack/__init__.py")
    assert "custom_nodes" in registry and "custom_nodes" not in env.model_paths  # not a model folder


def test_annotated_names_and_save_paths_stay_inside_their_folders(env):
    assert folder_paths.annotated_filepath("a.png [output]") == ("a.png", str(env.output_dir))
    with pytest.raises(ValueError):
        folder_paths.get_annotated_filepath("../../etc/passwd")
    assert folder_paths.exists_annotated_filepath("../x.png") is False
    with pytest.raises(ValueError):
        folder_paths.get_save_image_path("/abs/x", str(env.output_dir))
    out = str(env.output_dir)
    (env.output_dir / "run_00007_.png").write_text("x")
    assert folder_paths.get_save_image_path("run", out)[:3] == (out, "run", 8)


def test_cli_args_follow_the_binding(env, tmp_path):
    assert args.base_directory == str(tmp_path) and args.output_directory == str(tmp_path / "output")
    args.fast.add("autotune")
    args.fast.discard("autotune")
    assert args.disable_metadata is False and args.use_split_cross_attention is False


def test_common_upscale_methods_and_video_latents():
    samples = torch.rand(2, 3, 12, 16)
    assert comfy.utils.common_upscale(samples, 8, 6, "nearest-exact", "disabled").shape == (2, 3, 6, 8)
    lanczos = comfy.utils.common_upscale(samples, 32, 24, "lanczos", "disabled")
    pil = Image.fromarray(samples[0, 0].numpy()).resize((32, 24), Image.Resampling.LANCZOS)
    assert torch.allclose(lanczos[0, 0], torch.from_numpy(np.array(pil)).clamp(0, 1), atol=1e-5)
    assert comfy.utils.common_upscale(samples, 8, 8, "bislerp", "center").shape == (2, 3, 8, 8)
    video = torch.rand(1, 4, 3, 8, 8)
    assert comfy.utils.common_upscale(video, 16, 16, "bilinear", "disabled").shape == (1, 4, 3, 16, 16)


@pytest.mark.parametrize("scale", [2, 0.5])
def test_tiled_scale_matches_the_whole_image(scale):
    samples = torch.rand(2, 4, 40, 56)

    def function(tile):
        return F.interpolate(tile, scale_factor=scale, mode="nearest")[:, :3]

    bar = comfy.utils.ProgressBar(comfy.utils.get_tiled_scale_steps(56, 40, 16, 16, 8) * 2)
    out = comfy.utils.tiled_scale(samples, function, 16, 16, 8, upscale_amount=scale, out_channels=3, pbar=bar)
    assert torch.allclose(out, function(samples), atol=1e-6) and bar.current == bar.total


def test_progress_bar_hook_and_interrupts():
    events = []
    interrupt = threading.Event()
    ctx = ExecutionContext("p", "7", lambda event, data: events.append((event, data)), interrupt)
    comfy.utils.ProgressBar(3).update(1)  # outside a node: nowhere to report, no error
    with running(ctx):
        bar = comfy.utils.ProgressBar(4)
    threading.Thread(target=lambda: bar.update(2)).start()  # a worker thread of the node
    for _ in range(100):
        if events:
            break
        threading.Event().wait(0.01)
    assert events == [("progress", {"value": 2, "max": 4, "prompt_id": "p", "node": "7"})]
    calls = []
    comfy.utils.set_progress_bar_global_hook(lambda *a, **k: calls.append((a, k)))
    try:
        comfy.utils.ProgressBar(2).update_absolute(5)
    finally:
        comfy.utils.set_progress_bar_global_hook(None)
    assert calls == [((2, 2, None), {"node_id": None})]
    with running(ctx):
        nodes.interrupt_processing()
        assert mm.processing_interrupted()
        with pytest.raises(mm.InterruptProcessingException):
            bar.update(1)
        with pytest.raises(Interrupted):  # the engine ends the prompt as interrupted, not as an error
            nodes.before_node_execution()
        mm.interrupt_current_processing(False)
        mm.throw_exception_if_processing_interrupted()


def test_state_dict_helpers(tmp_path):
    sd = {"a.x": torch.ones(1), "b.y": torch.zeros(1)}
    assert list(comfy.utils.state_dict_prefix_replace(dict(sd), {"a.": "c."}, filter_keys=True)) == ["c.x"]
    renamed = comfy.utils.state_dict_prefix_replace(sd, {"a.": "c."})
    assert renamed is sd and set(sd) == {"b.y", "c.x"}
    comfy.utils.save_torch_file(sd, str(tmp_path / "m.sft"), metadata={"k": "v"})
    loaded, metadata = comfy.utils.load_torch_file(str(tmp_path / "m.sft"), return_metadata=True)
    assert set(loaded) == set(sd) and metadata == {"k": "v"}
    assert comfy.utils.repeat_to_batch_size(torch.arange(2), 5).tolist() == [0, 1, 0, 1, 0]
    module = torch.nn.Sequential(torch.nn.Linear(2, 2))
    old = comfy.utils.set_attr_param(module, "0.bias", torch.zeros(2))
    assert isinstance(old, torch.nn.Parameter) and comfy.utils.get_attr(module, "0.bias").sum() == 0


def test_core_nodes_take_comfyui_calls(env):
    (latent,) = nodes.EmptyLatentImage().generate(64, 32)  # batch_size defaults as in ComfyUI
    assert latent["samples"].shape == (1, 4, 4, 8)
    cond = [[torch.ones(1, 2, 3), {"pooled_output": torch.ones(1, 3)}]]
    (zero,) = nodes.ConditioningZeroOut().zero_out(cond)
    assert zero[0][0].sum() == 0 and zero[0][1]["pooled_output"].sum() == 0
    (timed,) = nodes.ConditioningSetTimestepRange().set_range(cond, 0.2, 0.6)
    assert timed[0][1]["start_percent"] == 0.2 and timed[0][1]["end_percent"] == 0.6
    image = torch.rand(1, 8, 8, 3)
    saved = nodes.PreviewImage().save_images(image, filename_prefix="ignored")
    assert saved["ui"]["images"][0]["type"] == "temp" and saved["result"] == ()
    with pytest.raises(TypeError, match="unexpected argument 'colour'"):
        nodes.ImageInvert().invert(image, colour=1)
    with pytest.raises(TypeError, match=r"supports only denoise=1\.0"):
        nodes.KSamplerAdvanced().sample(
            None, "enable", 0, 1, 1.0, "euler", "normal", [], [], latent, 0, 1, "disable", denoise=0.5
        )
    assert nodes.LoraLoader.RETURN_TYPES == ("MODEL", "CLIP") and nodes.LoraLoader.FUNCTION == "load_lora"
    assert nodes.CheckpointLoaderSimple.RETURN_TYPES == ("MODEL", "CLIP", "VAE")
    assert nodes.CLIPLoader.INPUT_TYPES()["required"]["clip_name"][0] == []
    assert nodes.NODE_CLASS_MAPPINGS["KSampler"] is nodes.KSampler
    with pytest.raises(MissingComfySymbol, match=r"nodes\.NotANode"):
        _ = nodes.NotANode


def test_type_names_and_helpers():
    # ComfyUI compares types with `!=` (IO.ANY.__ne__ is always False): test that operator, not `==`
    assert IO.ANY == "*" and not (IO.ANY != "IMAGE") and IO.IMAGE != "MASK" and not (IO.NUMBER != "INT")  # noqa: SIM202 -- `!=` is the operator under test
    assert str(IO.IMAGE) == "IMAGE" and {IO.LATENT: 1}["LATENT"] == 1

    class Node(ComfyNodeABC, CheckLazyMixin):
        @classmethod
        def INPUT_TYPES(cls):
            return {"required": {}}

    assert Node().check_lazy_status(a=None, b=1) == ["a"]
    cond = [[torch.ones(1), {"strength": 1.0}]]
    added = node_helpers.conditioning_set_values(cond, {"strength": 0.5}, append=True)
    assert added[0][1]["strength"] == 1.5 and cond[0][1]["strength"] == 1.0 and added[0][0] is cond[0][0]
    rgba, rgb = torch.rand(1, 2, 2, 4), torch.rand(1, 2, 2, 3)
    assert node_helpers.image_alpha_fix(rgba, rgb)[1].shape[-1] == 4
    assert node_helpers.image_alpha_fix(rgb, rgba)[1].shape[-1] == 3


def test_truncated_pictures_open_through_pillow(tmp_path):
    Image.new("RGB", (64, 64), (9, 9, 9)).save(tmp_path / "p.png")
    data = (tmp_path / "p.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) - 20])

    def load(path):
        with Image.open(path) as img:
            img.load()
            return img.size

    assert node_helpers.pillow(load, tmp_path / "cut.png") == (64, 64)


def test_missing_api_is_named():
    with pytest.raises(MissingComfySymbol, match=r"comfy\.utils\.no_such_helper"):
        _ = comfy.utils.no_such_helper
    assert not hasattr(mm, "no_such_function")  # feature detection with hasattr keeps working
    with pytest.raises(ImportError) as failed:
        exec("from comfy.utils import no_such_helper", {})
    assert explain_import_error(failed.value).startswith("comfy.utils.no_such_helper is ComfyUI API")
    with pytest.raises(ImportError) as failed:
        importlib.import_module("comfy.not_a_module")
    assert explain_import_error(failed.value).startswith("comfy.not_a_module is a ComfyUI module")
    assert explain_import_error(ImportError("unrelated", name="numpy")) is None
