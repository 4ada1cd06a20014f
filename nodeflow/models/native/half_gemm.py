"""The 16-bit-weight linear kernel (``half_gemm.cpp``): built once per machine with the system's C++
compiler into NodeFlow's cache folder, loaded with ctypes; it runs on torch's OpenMP threads.

Nothing here is required: without a compiler, on a CPU without AVX2/FMA/F16C, off x86-64, or with
``NODEFLOW_NATIVE_KERNELS=0``, ``kernel()`` is None and models keep fp32 weights (``half_storage.py``).
The built library is checked against ``F.linear`` before it is used."""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import torch
import torch.nn.functional as F

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("half_gemm.cpp")
FLAGS = ["-O3", "-mavx2", "-mfma", "-mf16c", "-fopenmp", "-shared", "-fPIC", "-std=c++17"]
CPU_FLAGS = ("avx2", "fma", "f16c")
SYMBOLS = {torch.float16: "nodeflow_linear_f16", torch.bfloat16: "nodeflow_linear_bf16"}

_lock = threading.Lock()
_state: dict = {}


def cache_dir() -> Path:
    """Where built kernels are kept: $NODEFLOW_CACHE_DIR/kernels, else ~/.cache/nodeflow/kernels."""
    own = os.environ.get("NODEFLOW_CACHE_DIR")
    if own:
        return Path(own) / "kernels"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nodeflow" / "kernels"


def _cpu_supports() -> bool:
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return False
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return all(flag in flags for flag in CPU_FLAGS)


def _build(compiler: str) -> Path:
    source = SOURCE.read_bytes()
    digest = hashlib.sha256(source + " ".join([compiler, *FLAGS]).encode()).hexdigest()[:16]
    target = cache_dir() / f"half_gemm-{digest}.so"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("building NodeFlow's 16-bit weight kernel with %s (once per machine) into %s", compiler, target.parent)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:  # several processes may build at once
        built = Path(tmp) / target.name
        subprocess.run([compiler, *FLAGS, str(SOURCE), "-o", str(built)], check=True, capture_output=True, timeout=120)
        os.replace(built, target)
    for old in target.parent.glob("half_gemm-*.so"):  # builds of earlier sources
        if old != target:
            old.unlink(missing_ok=True)
    return target


def _probe(library) -> bool:
    """The library's result equals fp32 F.linear (to float rounding) on awkward shapes."""
    gen = torch.Generator().manual_seed(0)
    for dtype in SYMBOLS:
        for m, n, k in ((1, 7, 13), (5, 11, 1030), (9, 4, 8)):
            x = torch.randn(m, k, generator=gen)
            w = torch.randn(n, k, generator=gen).to(dtype)
            b = torch.randn(n, generator=gen)
            want = F.linear(x, w.float(), b)
            got = torch.empty(m, n)
            fn = getattr(library, SYMBOLS[dtype])
            fn(x.data_ptr(), w.data_ptr(), b.data_ptr(), got.data_ptr(), m, n, k)
            if not torch.allclose(got, want, rtol=1e-5, atol=1e-4):
                return False
    return True


def _load():
    if os.environ.get("NODEFLOW_NATIVE_KERNELS", "1") == "0":
        return None, "turned off by NODEFLOW_NATIVE_KERNELS=0"
    if not _cpu_supports():
        return None, "this CPU is not x86-64 with AVX2, FMA and F16C"
    compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if not compiler:
        return None, "no C++ compiler (install g++ for the 16-bit weight kernels)"
    try:
        library = ctypes.CDLL(str(_build(compiler)))
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        return None, f"building {SOURCE.name} failed: {exc} {detail.decode(errors='replace')[:300]}"
    for symbol in SYMBOLS.values():
        fn = getattr(library, symbol)
        fn.restype = None
        fn.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_long] * 3
    if not _probe(library):
        return None, f"{SOURCE.name} gave wrong results on this machine"
    return library, None


def kernel():
    """The loaded library, or None (``reason()`` says why); built on the first call."""
    with _lock:
        if "library" not in _state:
            _state["library"], _state["reason"] = _load()
            if _state["reason"]:
                log.info("16-bit weight kernels off: %s", _state["reason"])
        return _state["library"]


def reason() -> str | None:
    kernel()
    return _state.get("reason")


def half_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``F.linear(x, weight.float(), bias)`` for fp32 CPU ``x`` and a contiguous fp16/bf16 ``weight``,
    without widening the weight in memory. ``kernel()`` must not be None."""
    fn = getattr(_state["library"], SYMBOLS[weight.dtype])
    k = weight.shape[1]
    rows = x.reshape(-1, k).contiguous()
    m, n = rows.shape[0], weight.shape[0]
    out = torch.empty(m, n, dtype=torch.float32)
    if bias is not None and bias.dtype != torch.float32:
        bias = bias.float()
    fn(rows.data_ptr(), weight.data_ptr(), bias.data_ptr() if bias is not None else None, out.data_ptr(), m, n, k)
    return out.reshape(*x.shape[:-1], n)
