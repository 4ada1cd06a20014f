"""`python -m nodeflow.demo.train` runs every stage end to end (a dry run at a tiny scale, into a
temporary folder) and writes files the normal loaders read; the committed pack fits its size cap."""
import json

import pytest
import torch

from nodeflow.demo import train as demo_train

WEIGHTS = demo_train.WEIGHTS


def test_dry_run_writes_every_file_in_loadable_formats(tmp_path, monkeypatch):
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # leave the test process's threads alone
    weights, work = tmp_path / "weights", tmp_path / "build"
    report = demo_train.main(["--scale", "0.002", "--weights", str(weights), "--work", str(work), "--threads", "1"])
    assert list(report["stages"]) == list(demo_train.STAGES)
    assert json.loads((work / "train_report.json").read_text())["stages"]["t2i"]["steps"] == 9

    from nodeflow.models.component_files import load_unet_file
    from nodeflow.models.expander import load_expander
    from nodeflow.models.loader import load_checkpoint
    from nodeflow.models.upscaler import load_upscale_model

    paths = demo_train.Paths(weights, work)
    model, clip, vae = load_checkpoint(paths.checkpoint)
    assert (model.family, model.in_channels, vae.downscale, vae.latent_channels) == ("sd1", 4, 8, 4)
    assert clip.encode("a small red star")[0].shape[1] == 77
    assert load_unet_file(paths.inpaint_unet).in_channels == 9
    assert load_upscale_model(paths.upscaler).scale == 4
    assert load_expander(paths.expander).tokenizer("red star").input_ids


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
        f"{p.relative_to(WEIGHTS)} {p.stat().st_size / 1e6:.1f}" for p in sorted(files))
