"""The transformer blocks of SD-style models (CrossAttention, FeedForward, BasicTransformerBlock,
SpatialTransformer), re-exported by comfy.ldm.modules.attention. Parameter names follow the
released checkpoints (``to_q``, ``to_out.0``, ``net.0.proj``, ``proj_in``...), so packs can load
released weights into them. Attention is looked up on the attention module at call time, so a
pack that replaces ``comfy.ldm.modules.attention.optimized_attention`` changes these blocks too."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

import comfy.ops

from . import attention as _attention

Ops = Any  # a namespace with Linear, Conv2d, GroupNorm, LayerNorm (comfy.ops.disable_weight_init, torch.nn, ...)


def _factory(dtype: Any, device: Any) -> dict:
    return {"dtype": dtype, "device": device}


class GEGLU(torch.nn.Module):
    """A linear layer to twice the width whose second half gates the first through GELU."""

    def __init__(
        self, dim_in: int, dim_out: int, dtype=None, device=None, operations: Ops = comfy.ops.disable_weight_init
    ):
        super().__init__()
        self.proj = operations.Linear(dim_in, dim_out * 2, **_factory(dtype, device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, gate = self.proj(x).chunk(2, dim=-1)
        return x * F.gelu(gate)


class FeedForward(torch.nn.Module):
    """Linear (or GEGLU with ``glu``) to ``mult`` x width, dropout, linear back to ``dim_out``."""

    def __init__(
        self,
        dim: int,
        dim_out: int | None = None,
        mult: float = 4,
        glu: bool = False,
        dropout: float = 0.0,
        dtype=None,
        device=None,
        operations: Ops = comfy.ops.disable_weight_init,
    ):
        super().__init__()
        inner = int(dim * mult)
        dim_out = _attention.default(dim_out, dim)
        project_in = (
            GEGLU(dim, inner, dtype, device, operations)
            if glu
            else torch.nn.Sequential(operations.Linear(dim, inner, **_factory(dtype, device)), torch.nn.GELU())
        )
        self.net = torch.nn.Sequential(
            project_in, torch.nn.Dropout(dropout), operations.Linear(inner, dim_out, **_factory(dtype, device))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class CrossAttention(torch.nn.Module):
    """Multi-head attention of ``x`` over ``context`` (itself when None): q/k/v projections without
    bias, the output projection with one."""

    def __init__(
        self,
        query_dim: int,
        context_dim: int | None = None,
        heads: int = 8,
        dim_head: int = 64,
        dropout: float = 0.0,
        attn_precision: Any = None,
        dtype=None,
        device=None,
        operations: Ops = comfy.ops.disable_weight_init,
    ):
        super().__init__()
        inner = dim_head * heads
        context_dim = _attention.default(context_dim, query_dim)
        self.heads, self.dim_head, self.attn_precision = heads, dim_head, attn_precision
        f = _factory(dtype, device)
        self.to_q = operations.Linear(query_dim, inner, bias=False, **f)
        self.to_k = operations.Linear(context_dim, inner, bias=False, **f)
        self.to_v = operations.Linear(context_dim, inner, bias=False, **f)
        self.to_out = torch.nn.Sequential(operations.Linear(inner, query_dim, **f), torch.nn.Dropout(dropout))

    def forward(
        self,
        x: torch.Tensor,
        context: torch.Tensor | None = None,
        value: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        transformer_options: dict | None = None,
    ) -> torch.Tensor:
        q = self.to_q(x)
        context = _attention.default(context, x)
        k = self.to_k(context)
        v = self.to_v(value if value is not None else context)
        out = _attention.optimized_attention(
            q, k, v, self.heads, mask, attn_precision=self.attn_precision, transformer_options=transformer_options or {}
        )
        return self.to_out(out)


class BasicTransformerBlock(torch.nn.Module):
    """Self-attention, cross-attention over the context, feed-forward; each pre-normed and residual."""

    def __init__(
        self,
        dim: int,
        n_heads: int,
        d_head: int,
        dropout: float = 0.0,
        context_dim: int | None = None,
        gated_ff: bool = True,
        checkpoint: bool = True,
        ff_in: bool = False,
        inner_dim: int | None = None,
        disable_self_attn: bool = False,
        disable_temporal_crossattention: bool = False,
        switch_temporal_ca_to_sa: bool = False,
        attn_precision: Any = None,
        dtype=None,
        device=None,
        operations: Ops = comfy.ops.disable_weight_init,
    ):
        super().__init__()
        f = _factory(dtype, device)
        inner_dim = _attention.default(inner_dim, dim)
        self.is_res = inner_dim == dim
        self.has_ff_in = ff_in or inner_dim != dim
        if self.has_ff_in:
            self.norm_in = operations.LayerNorm(dim, **f)
            self.ff_in = FeedForward(dim, inner_dim, dropout=dropout, glu=gated_ff, operations=operations, **f)
        self.disable_self_attn = disable_self_attn
        self.attn1 = CrossAttention(
            inner_dim,
            context_dim if disable_self_attn else None,
            n_heads,
            d_head,
            dropout,
            attn_precision,
            operations=operations,
            **f,
        )
        self.ff = FeedForward(inner_dim, dim, dropout=dropout, glu=gated_ff, operations=operations, **f)
        self.switch_temporal_ca_to_sa = switch_temporal_ca_to_sa
        if disable_temporal_crossattention:
            self.attn2 = None
        else:
            attn2_context = None if switch_temporal_ca_to_sa else context_dim
            self.attn2 = CrossAttention(
                inner_dim, attn2_context, n_heads, d_head, dropout, attn_precision, operations=operations, **f
            )
            self.norm2 = operations.LayerNorm(inner_dim, **f)
        self.norm1 = operations.LayerNorm(inner_dim, **f)
        self.norm3 = operations.LayerNorm(inner_dim, **f)
        self.n_heads, self.d_head = n_heads, d_head

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None, transformer_options: dict | None = None
    ) -> torch.Tensor:
        options = transformer_options if transformer_options is not None else {}
        if self.has_ff_in:
            skip = x
            x = self.ff_in(self.norm_in(x))
            if self.is_res:
                x = x + skip
        h = self.attn1(self.norm1(x), context=context if self.disable_self_attn else None, transformer_options=options)
        x = x + h if self.is_res else h
        if self.attn2 is not None:
            ctx = None if self.switch_temporal_ca_to_sa else context
            x = x + self.attn2(self.norm2(x), context=ctx, transformer_options=options)
        h = self.ff(self.norm3(x))
        return x + h if self.is_res else h


class SpatialTransformer(torch.nn.Module):
    """Transformer blocks over a feature map [B, C, H, W]: group norm, project in (1x1 conv or
    linear), ``depth`` BasicTransformerBlocks, project out, plus the input."""

    def __init__(
        self,
        in_channels: int,
        n_heads: int,
        d_head: int,
        depth: int = 1,
        dropout: float = 0.0,
        context_dim: int | list | None = None,
        disable_self_attn: bool = False,
        use_linear: bool = False,
        use_checkpoint: bool = True,
        attn_precision: Any = None,
        dtype=None,
        device=None,
        operations: Ops = comfy.ops.disable_weight_init,
    ):
        super().__init__()
        f = _factory(dtype, device)
        if context_dim is not None and not isinstance(context_dim, (list, tuple)):
            context_dim = [context_dim] * depth
        self.in_channels = in_channels
        inner = n_heads * d_head
        self.norm = operations.GroupNorm(32, in_channels, eps=1e-6, affine=True, **f)
        self.use_linear = use_linear
        if use_linear:
            self.proj_in = operations.Linear(in_channels, inner, **f)
            self.proj_out = operations.Linear(inner, in_channels, **f)
        else:
            self.proj_in = operations.Conv2d(in_channels, inner, kernel_size=1, stride=1, padding=0, **f)
            self.proj_out = operations.Conv2d(inner, in_channels, kernel_size=1, stride=1, padding=0, **f)
        self.transformer_blocks = torch.nn.ModuleList(
            [
                BasicTransformerBlock(
                    inner,
                    n_heads,
                    d_head,
                    dropout=dropout,
                    context_dim=context_dim[d] if context_dim is not None else None,
                    disable_self_attn=disable_self_attn,
                    checkpoint=use_checkpoint,
                    attn_precision=attn_precision,
                    operations=operations,
                    **f,
                )
                for d in range(depth)
            ]
        )

    def forward(self, x: torch.Tensor, context: Any = None, transformer_options: dict | None = None) -> torch.Tensor:
        options = transformer_options if transformer_options is not None else {}
        if not isinstance(context, (list, tuple)):
            context = [context] * len(self.transformer_blocks)
        b, _, h, w = x.shape
        x_in = x
        x = self.norm(x)
        if not self.use_linear:
            x = self.proj_in(x)
        x = x.movedim(1, 3).flatten(1, 2)
        if self.use_linear:
            x = self.proj_in(x)
        for i, block in enumerate(self.transformer_blocks):
            options["block_index"] = i
            x = block(x, context=context[i], transformer_options=options)
        if self.use_linear:
            x = self.proj_out(x)
        x = x.reshape(b, h, w, -1).movedim(3, 1)
        if not self.use_linear:
            x = self.proj_out(x)
        return x + x_in
