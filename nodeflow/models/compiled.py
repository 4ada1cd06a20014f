"""TorchCompileModel's compiled networks: one ``torch.compile`` wrapper per (module, backend),
kept on the module itself so every clone and prompt sharing the module shares it and it goes when
the module goes; inductor's cache in a folder that survives restarts; compile failures reported
naming the node. torch is imported only when something compiles (the node module reads BACKENDS)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

BACKENDS = ("inductor", "cudagraphs")  # ComfyUI's TorchCompileModel choices
CACHE_ENV = "TORCHINDUCTOR_CACHE_DIR"
USER_CACHE_DIR = os.environ.get(CACHE_ENV)  # read before inductor sets its default (at NodeFlow's import)
_ATTR = "_nodeflow_compiled"  # module.__dict__ entry: {backend: CompiledNetwork}


class CompileError(RuntimeError):
    """torch.compile could not compile or run a TorchCompileModel network."""


class CompiledNetwork:
    """Calls ``torch.compile(module)``; compile failures (raised on the first call) become CompileError."""

    def __init__(self, module: torch.nn.Module, backend: str) -> None:
        self.module = module
        self.backend = backend
        import torch

        self.compiled = torch.compile(module, backend=backend)

    def __getattr__(self, name: str):  # the network's own attributes (``config``, ...) read through
        return getattr(self.__dict__["module"], name)

    def __call__(self, *args, **kwargs):
        try:
            return self.compiled(*args, **kwargs)
        except Exception as exc:
            if not type(exc).__module__.startswith(("torch._dynamo", "torch._inductor")):
                raise
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            raise CompileError(
                f"TorchCompileModel: torch.compile with backend {self.backend!r} failed on this model "
                f"({type(exc).__name__}: {first}); remove the TorchCompileModel node or pick another backend"
            ) from exc


def compiled_module(module: torch.nn.Module, backend: str) -> CompiledNetwork:
    if backend not in BACKENDS:
        raise ValueError(f"TorchCompileModel: unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    cache = module.__dict__.setdefault(_ATTR, {})
    if backend not in cache:
        cache[backend] = CompiledNetwork(module, backend)
    return cache[backend]


def use_compile_cache(user_dir: Path) -> Path:
    """Inductor's cache folder: the user's own TORCHINDUCTOR_CACHE_DIR, else ``user/cache/torchinductor``
    under the base directory (so compiled kernels survive restarts)."""
    path = Path(USER_CACHE_DIR) if USER_CACHE_DIR else Path(user_dir) / "cache" / "torchinductor"
    os.environ[CACHE_ENV] = str(path)
    return path


def check_backend(backend: str, device: torch.device) -> None:
    """Refuse what cannot compile here before sampling starts."""
    if backend == "cudagraphs" and device.type != "cuda":
        raise ValueError(
            f"TorchCompileModel: backend 'cudagraphs' needs a CUDA GPU and NodeFlow computes on {device}; pick 'inductor'"
        )
    if backend == "inductor" and device.type == "cpu":
        from torch._inductor import cpp_builder

        try:
            cpp_builder.get_cpp_compiler()
        except Exception as exc:  # inductor's own check: which C++ compiler it would use
            raise ValueError(
                f"TorchCompileModel: inductor on the CPU needs a C++ compiler ({exc}); install g++ "
                "(apt-get install g++) or remove the node"
            ) from None
