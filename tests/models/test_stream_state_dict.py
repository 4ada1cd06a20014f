"""checkpoint_file.stream_state_dict: every safetensors dtype read as stored or cast on arrival,
clear errors for damaged files, and a peak memory of the cast weights plus one tensor (the file is
read, not mapped: mapped pages would count as resident memory while the file is open)."""

import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import load_file, save_file

from nodeflow.models.checkpoint_file import ModelFileError, stream_state_dict


@pytest.fixture
def mixed_file(tmp_path):
    g = torch.Generator().manual_seed(0)
    tensors = {
        "unet.a": torch.randn(3, 5, generator=g).half(),
        "unet.b": torch.randn(7, generator=g).bfloat16(),
        "unet.fp8": torch.randn(4, 4, generator=g).to(torch.float8_e4m3fn),
        "vae.c": torch.randn(2, 2, 2, generator=g),
        "ids": torch.arange(6, dtype=torch.int64).reshape(1, 6),
        "mask": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5, dtype=torch.float16),
        "empty": torch.zeros(0, 3, dtype=torch.float16),
    }
    path = tmp_path / "mixed.safetensors"
    save_file(tensors, str(path))
    return path, tensors


def test_as_stored_equals_safetensors(mixed_file):
    path, _ = mixed_file
    got = stream_state_dict(path, lambda name, stored: None)
    expected = load_file(str(path))
    assert got.keys() == expected.keys()
    for name, tensor in expected.items():
        assert got[name].dtype == tensor.dtype and got[name].shape == tensor.shape, name
        assert torch.equal(got[name].reshape(-1).view(torch.uint8), tensor.reshape(-1).view(torch.uint8)), name


def test_cast_on_arrival_per_tensor(mixed_file):
    path, tensors = mixed_file
    asked = {}

    def dtype_for(name, stored):
        asked[name] = stored
        return torch.float32 if name.startswith("unet.") or name == "scalar" else None

    got = stream_state_dict(path, dtype_for)
    assert "ids" not in asked and "mask" not in asked  # only floating tensors are asked about
    assert asked["unet.b"] == torch.bfloat16
    for name in ("unet.a", "unet.b", "unet.fp8", "scalar"):
        assert got[name].dtype == torch.float32
        assert torch.equal(got[name], tensors[name].float()), name
    assert got["vae.c"].dtype == torch.float32 and torch.equal(got["vae.c"], tensors["vae.c"])
    assert torch.equal(got["ids"], tensors["ids"]) and torch.equal(got["mask"], tensors["mask"])
    # the staging buffer is reused: tensors cast from it must not alias each other
    assert got["unet.a"].untyped_storage().data_ptr() != got["unet.b"].untyped_storage().data_ptr()


def test_damaged_files_name_the_problem(tmp_path, mixed_file):
    path, _ = mixed_file
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ModelFileError, match="truncated"):
        stream_state_dict(cut, lambda *a: None)
    raw = path.read_bytes()
    odd = tmp_path / "odd.safetensors"
    odd.write_bytes(raw.replace(b'"BOOL"', b'"BOOX"', 1))
    with pytest.raises(ModelFileError, match="unknown dtype 'BOOX'"):
        stream_state_dict(odd, lambda *a: None)


@pytest.mark.slow  # writes and reads 400 MB in a subprocess (~10 s)
def test_peak_memory_is_the_cast_weights_plus_one_tensor(tmp_path):
    """400 MB of fp16 read as fp32: the peak grows by the 800 MB result and one staging tensor,
    not by the file (a mapped read would add its 400 MB of pages)."""
    path = tmp_path / "big.safetensors"
    save_file({f"w{i}": torch.ones(25 * 2**20, dtype=torch.float16) for i in range(8)}, str(path))
    script = textwrap.dedent(
        f"""
        import resource, sys, torch
        from pathlib import Path
        from nodeflow.models.checkpoint_file import stream_state_dict
        torch.ones(1)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        sd = stream_state_dict(Path({str(path)!r}), lambda n, s: torch.float32)
        assert sum(t.numel() for t in sd.values()) == 8 * 25 * 2**20
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=".")
    grown_mb = int(out.stdout.strip().splitlines()[-1])
    result_mb, one_tensor_mb = 800, 50
    assert grown_mb <= result_mb + one_tensor_mb + 80, f"peak grew {grown_mb} MB for an {result_mb} MB result"


def test_the_caller_reads_beside_the_background_thread_and_gets_file_order(tmp_path):
    from nodeflow.models.tensor_stream import TensorStream

    tensors = {f"t{i:03d}": torch.full((1000 + i,), float(i), dtype=torch.float16) for i in range(200)}
    path = tmp_path / "many.safetensors"
    save_file(tensors, str(path))
    stream = TensorStream(path, lambda name, stored: torch.float32 if name.endswith(("1", "3")) else None)
    got = stream.finish()
    assert list(got) == sorted(tensors)  # safetensors writes names in order: file order
    for name, t in tensors.items():
        assert torch.equal(got[name].half(), t)
        assert got[name].dtype == (torch.float32 if name.endswith(("1", "3")) else torch.float16)
    stopped = TensorStream(path, lambda *a: None)
    stopped.cancel()  # a caller that failed: reading stops, the file is closed
    assert stopped._file.closed
