"""ComfyUI's TorchCompileModel: a MODEL clone whose network runs through torch.compile. The compiled
network is made once per loaded network and backend (``ModelManager.compiled``) and shared by every
clone and prompt; inductor's kernels are cached under ``user/cache/torchinductor`` (or the user's
TORCHINDUCTOR_CACHE_DIR), so a restart reuses them instead of compiling again."""

from __future__ import annotations

from nodeflow.models.compiled import BACKENDS
from nodeflow.schema.node import Node
from nodeflow.schema.types import Combo, Model


class TorchCompileModel(Node):
    """Compile the diffusion model with torch.compile (the first sampling step pays the compile time)."""

    category = "_for_testing"
    experimental = True
    inputs = {"model": Model(), "backend": Combo(choices=BACKENDS, default="inductor")}
    outputs = {"MODEL": Model()}

    def run(self, model, backend):
        from nodeflow.models.compiled import check_backend, compiled_module, use_compile_cache
        from nodeflow.models.diffusion_model import DiffusionModel

        if not isinstance(model, DiffusionModel):
            raise ValueError(f"TorchCompileModel compiles NodeFlow diffusion models, not {type(model).__name__}")
        manager = getattr(self.ctx, "models", None)
        check_backend(backend, model.device)
        env = getattr(self.ctx, "env", None)
        if env is not None:
            use_compile_cache(env.user_dir)
        network = model.unet.module
        clone = model.clone()
        clone.compiled = (
            manager.compiled(network, backend) if manager is not None else compiled_module(network, backend)
        )
        return clone
