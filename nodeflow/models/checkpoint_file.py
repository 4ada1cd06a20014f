"""Read model files safely: ``.safetensors`` (header checked, truncation caught) and pickle
formats only through ``torch.load(weights_only=True)``; every failure names the file and the fix."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import torch

PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin", ".pkl")
SAFETENSORS_SUFFIXES = (".safetensors", ".sft")


class ModelFileError(ValueError):
    """A model file that cannot be read or is not what it claims to be."""


def safetensors_header(path: Path) -> tuple[dict, dict]:
    """(tensor entries, metadata) from a safetensors header, validated against the file size."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ModelFileError(f"{path.name} is not a .safetensors file (only {size} bytes)")
        (length,) = struct.unpack("<Q", head)
        if length <= 1 or length > min(size - 8, 100 * 2**20):
            raise ModelFileError(
                f"{path.name} is not a .safetensors file (bad header length); "
                "re-download it or check it is not a renamed .ckpt/.pt"
            )
        try:
            header = json.loads(f.read(length))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFileError(f"{path.name} has a corrupt .safetensors header ({exc})") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path.name} has a corrupt .safetensors header")
    metadata = header.pop("__metadata__", None) or {}
    end = max(
        (int(v["data_offsets"][1]) for v in header.values() if isinstance(v, dict) and "data_offsets" in v), default=0
    )
    if 8 + length + end > size:
        raise ModelFileError(
            f"{path.name} is truncated ({size} bytes, the header needs {8 + length + end}); "
            "the download or copy did not finish"
        )
    return header, metadata


def tensor_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Names and shapes without loading tensors (safetensors only; others load)."""
    if path.suffix.lower() in SAFETENSORS_SUFFIXES:
        header, _ = safetensors_header(path)
        return {k: tuple(v["shape"]) for k, v in header.items()}
    return {k: tuple(v.shape) for k, v in load_state_dict(path).items()}


def load_state_dict(path: Path, device: str = "cpu") -> dict[str, torch.Tensor]:
    """All tensors of a model file. Pickle files load only if ``weights_only`` loading succeeds."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {path.name} does not exist")
    suffix = path.suffix.lower()
    if suffix in SAFETENSORS_SUFFIXES:
        safetensors_header(path)
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device=device)
        except Exception as exc:  # the header looked fine but the body is damaged
            raise ModelFileError(f"{path.name} could not be read as .safetensors: {exc}") from None
    if suffix in PICKLE_SUFFIXES:
        try:
            data = torch.load(str(path), map_location=device, weights_only=True, mmap=True)
        except Exception as exc:
            text = str(exc).splitlines()[0][:200]
            raise ModelFileError(
                f"{path.name} was refused: it is not a plain tensor file that loads with "
                f"weights_only=True ({text}). Pickle files can run code; use a .safetensors "
                "version of this model."
            ) from None
        for key in ("state_dict", "model", "params_ema", "params"):
            if isinstance(data, dict) and isinstance(data.get(key), dict):
                data = data[key]
                break
        if not isinstance(data, dict) or not any(isinstance(v, torch.Tensor) for v in data.values()):
            raise ModelFileError(f"{path.name} holds no tensors")
        return {k: v for k, v in data.items() if isinstance(v, torch.Tensor)}
    raise ModelFileError(f"{path.name}: unsupported model file type {suffix!r} (use .safetensors, or .ckpt/.pt)")


# safetensors dtype names -> torch dtypes (the F8 ones exist in every torch NodeFlow supports)
SAFETENSORS_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "F8_E4M3": torch.float8_e4m3fn,
    "F8_E5M2": torch.float8_e5m2,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}


def stream_state_dict(path: Path, dtype_for) -> dict[str, torch.Tensor]:
    """All tensors of a .safetensors file, each cast on arrival to ``dtype_for(name, stored dtype)``
    (None: kept as stored), read by two threads without a memory map (``tensor_stream.TensorStream``:
    the peak is the weights plus a tensor per reader). Other formats load whole."""
    path = Path(path)
    if path.suffix.lower() not in SAFETENSORS_SUFFIXES:
        return load_state_dict(path)
    from .tensor_stream import TensorStream

    return TensorStream(path, dtype_for).finish()


def file_metadata(path: Path) -> dict:
    if Path(path).suffix.lower() not in SAFETENSORS_SUFFIXES:
        return {}
    return safetensors_header(Path(path))[1]
