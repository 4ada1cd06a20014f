"""`python -m nodeflow.demo.train` runs every stage end to end (a dry run at a tiny scale, into a
temporary folder) and writes files the normal loaders read; the committed pack fits its size cap."""

import json
import subprocess
import sys

import pytest
import torch

from nodeflow.demo import train as demo_train

WEIGHTS = demo_train.WEIGHTS


@pytest.mark.slow  # trains every stage of the demo pack (a tiny dry run)
def test_dry_run_writes_every_file_in_loadable_formats(tmp_path, monkeypatch):
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # leave the test process's threads alone
    weights, work = tmp_path / "weights", tmp_path / "build"
    report = demo_train.main(["--scale", "0.0008", "--weights", str(weights), "--work", str(work), "--threads", "2"])
    assert list(report["stages"]) == list(demo_train.STAGES)
    # the judge/expander/upscaler lane ran in its own process beside the vae/t2i/inpaint lane
    assert report["lanes"]["side"] == ["judge", "expander", "upscaler"]
    assert '"stage": "upscaler"' in (work / "side_lane.log").read_text()
    written = json.loads((work / "train_report.json").read_text())["stages"]
    assert written["t2i"]["steps"] == round(demo_train.PLAN["t2i"].steps * 0.0008)  # --scale applies
    assert written["vae"]["batch"] == demo_train.PLAN["vae"].batch  # the plan's batch, not a copy of it

    from nodeflow.models.component_files import load_unet_file
    from nodeflow.models.expander import load_expander
    from nodeflow.models.loader import load_checkpoint
    from nodeflow.models.upscaler import load_upscale_model

    paths = demo_train.Paths(weights, work)
    model, clip, vae = load_checkpoint(paths.checkpoint)
    assert (model.family.name, model.in_channels, vae.downscale, vae.latent_channels) == ("sd1", 4, 8, 4)
    assert clip.encode("a small red star")[0].shape[1] == 77
    assert load_unet_file(paths.inpaint_unet).in_channels == 9
    assert load_upscale_model(paths.upscaler).scale == 4
    assert load_expander(paths.expander).tokenizer("red star").input_ids


def test_main_lane_takes_both_cores_once_the_side_lane_ends():
    before = torch.get_num_threads()
    try:
        side = subprocess.Popen([sys.executable, "-c", "pass"])
        share = demo_train.CoreShare(side, 2)
        assert torch.get_num_threads() == 1
        side.wait()
        share()
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_a_failing_side_lane_stops_the_run_and_names_its_log(tmp_path, monkeypatch):
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)
    monkeypatch.setattr(
        demo_train,
        "start_side_lane",
        lambda stages, args, work: subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"]),
    )
    monkeypatch.setattr(demo_train, "run_stage", lambda name, paths, scale, on_step=None: {"ran": name})
    with pytest.raises(SystemExit) as stop:
        demo_train.main(["--only", "vae,upscaler", "--weights", str(tmp_path / "w"), "--work", str(tmp_path / "b")])
    assert "exit code 3" in str(stop.value) and "side_lane.log" in str(stop.value)


@pytest.mark.parametrize(
    "stage, module",
    [
        ("judge", "judge"),
        ("vae", "train_vae"),
        ("t2i", "train_t2i"),
        ("inpaint", "train_inpaint"),
        ("expander", "train_expander"),
        ("upscaler", "train_upscaler"),
    ],
)
def test_each_trainer_command_defaults_to_the_committed_plan(stage, module):
    import importlib

    from nodeflow.demo.plan import PLAN

    args = importlib.import_module(f"nodeflow.demo.{module}").arguments().parse_args([])
    assert (args.steps, args.seed, getattr(args, "pool", 0), getattr(args, "batch", 0)) == tuple(PLAN[stage])


def test_a_failing_main_lane_stops_the_side_lane_too(tmp_path, monkeypatch):
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)
    children = []

    def start(stages, args, work):
        children.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]))
        return children[-1]

    def fail(name, paths, scale, on_step=None):
        raise RuntimeError(f"{name} broke")

    monkeypatch.setattr(demo_train, "start_side_lane", start)
    monkeypatch.setattr(demo_train, "run_stage", fail)
    with pytest.raises(RuntimeError, match="vae broke"):
        demo_train.main(["--only", "vae,upscaler", "--weights", str(tmp_path / "w"), "--work", str(tmp_path / "b")])
    assert children[0].poll() is not None  # terminated, not left running for ten minutes


def test_unknown_stage_is_refused_with_the_list(capsys):
    with pytest.raises(SystemExit):
        demo_train.main(["--only", "vae,colour"])
    err = capsys.readouterr().err
    assert "colour" in err and "upscaler" in err


def test_committed_pack_fits_the_30_mb_cap():
    files = [p for p in WEIGHTS.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    assert {p.suffix for p in files} >= {".safetensors", ".json"}
    assert total <= 30_000_000, f"demo pack is {total / 1e6:.1f} MB: " + ", ".join(
        f"{p.relative_to(WEIGHTS)} {p.stat().st_size / 1e6:.1f}" for p in sorted(files)
    )
