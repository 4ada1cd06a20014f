"""comfy.ldm.qwen_image.model for custom-node packs: the Qwen-Image joint-attention class, so packs
that replace ``Attention.forward`` import; NodeFlow has no Qwen-Image model to run it in."""

from __future__ import annotations

from typing import Any

import torch

from nodeflow.comfy_compat import missing


class Attention(torch.nn.Module):
    """Qwen-Image's joint (image + text) attention. NodeFlow cannot run Qwen-Image models; the
    class exists so that packs patching its ``forward`` load."""

    def forward(
        self,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        encoder_hidden_states_mask: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        image_rotary_emb: torch.Tensor | None = None,
        transformer_options: Any = None,
    ):
        raise NotImplementedError("comfy.ldm.qwen_image.model.Attention: NodeFlow has no Qwen-Image model")


__getattr__ = missing("comfy.ldm.qwen_image.model")
