"""The precision flags of ``python main.py`` (ComfyUI's names): parser -> Precision -> ModelManager
dtypes, the same choices in a Ray worker's settings and in ComfyUI's ``comfy.cli_args.args``."""

import pytest
import torch

import main
from nodeflow.comfy_compat import binding, install
from nodeflow.models.manager import ModelManager
from nodeflow.models.precision import Precision, from_args
from nodeflow.runtime import build_runtime
from nodeflow.server.cli_args import parser

install()
from comfy.cli_args import args as comfy_args  # noqa: E402 -- after install(), which puts ComfyUI's modules on sys.path


def manager_for(*flags: str) -> ModelManager:
    return ModelManager(cpu=True, **from_args(parser().parse_args(list(flags))).manager_kwargs())


def dtypes(manager: ModelManager) -> tuple:
    return manager.dtype("unet"), manager.dtype("vae"), manager.dtype("text")


F32, F16, BF16 = torch.float32, torch.float16, torch.bfloat16


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((), (F32, F32, F32)),  # the CPU default is unchanged
        (("--bf16-unet",), (BF16, F32, F32)),
        (("--fp16-unet", "--bf16-vae", "--fp16-text-enc"), (F16, BF16, F16)),
        (("--force-fp16",), (F16, F32, F16)),  # ComfyUI's --force-fp16 leaves the VAE out
        (("--force-fp16", "--fp16-vae"), (F16, F16, F16)),  # a per-kind flag wins over --force-*
        (("--force-fp32", "--bf16-text-enc"), (F32, F32, BF16)),
        (("--fp32-unet", "--fp32-vae", "--fp32-text-enc"), (F32, F32, F32)),
    ],
)
def test_flags_choose_the_dtype_of_each_kind(flags, expected):
    manager = manager_for(*flags)
    assert dtypes(manager) == expected
    assert manager.dtype("clip") == manager.dtype("text")  # the text-encoder loaders' older name


@pytest.mark.parametrize(
    "flags",
    [
        ("--fp16-unet", "--bf16-unet"),
        ("--fp32-vae", "--fp16-vae"),
        ("--bf16-text-enc", "--fp32-text-enc"),
        ("--force-fp32", "--force-fp16"),
    ],
)
def test_each_kind_takes_one_dtype(flags, capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(list(flags))
    assert "not allowed with argument" in capsys.readouterr().err


def test_layout_flags_and_int8_help():
    precision = from_args(parser().parse_args(["--force-channels-last", "--int8-linear"]))
    assert precision.channels_last and precision.int8_linear
    manager = ModelManager(cpu=True, **precision.manager_kwargs())
    assert manager.channels_last and manager.int8_linear
    assert "no ComfyUI equivalent" in parser().format_help().replace("\n", " ").replace("  ", " ")


def test_int8_linear_refuses_a_half_precision_unet():
    with pytest.raises(ValueError, match="--int8-linear computes in fp32"):
        manager_for("--int8-linear", "--bf16-unet")


def test_main_reports_flags_that_cannot_run_together(capsys, tmp_path):
    with pytest.raises(SystemExit):
        main.main(["--base-directory", str(tmp_path), "--int8-linear", "--fp16-unet", "--disable-custom-nodes"])
    assert "--int8-linear computes in fp32" in capsys.readouterr().err


def test_precision_crosses_to_a_ray_worker_as_data(tmp_path):
    from nodeflow.cluster.actor import NodeFlowWorker

    args = parser().parse_args(["--cpu", "--bf16-unet", "--fp16-text-enc", "--force-channels-last"])
    runtime = build_runtime(tmp_path, cpu=True, precision=from_args(args), custom_nodes=False)
    settings = main.worker_settings(args, runtime)
    assert Precision.from_dict(settings["precision"]) == from_args(args)
    worker = NodeFlowWorker({**settings, "custom_nodes": False})
    assert dtypes(worker.runtime.models) == dtypes(runtime.models) == (BF16, F32, F16)
    assert worker.runtime.models.channels_last


def test_build_runtime_keeps_force_fp16_and_takes_a_dict(tmp_path):
    assert build_runtime(tmp_path, cpu=True, force_fp16=True, custom_nodes=False).models.dtype("unet") == F16
    runtime = build_runtime(tmp_path, cpu=True, precision={"vae": "bf16"}, custom_nodes=False)
    assert dtypes(runtime.models) == (F32, BF16, F32)


def test_comfy_cli_args_reflect_the_flags(env):
    manager = manager_for("--bf16-unet", "--fp32-vae", "--force-fp16", "--force-channels-last")
    binding.bind(env, manager, None)
    try:
        assert comfy_args.bf16_unet and comfy_args.fp32_vae and comfy_args.force_fp16
        assert comfy_args.force_channels_last
        assert not (comfy_args.fp16_unet or comfy_args.fp16_text_enc or comfy_args.force_fp32)
        binding.bind(env, ModelManager(cpu=True), None)
        assert not (comfy_args.bf16_unet or comfy_args.force_fp16 or comfy_args.force_channels_last)
    finally:
        binding.bind(None, None, None)
