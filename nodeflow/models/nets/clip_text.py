"""CLIP's text transformer (SD1's CLIP-L, SD2's OpenCLIP-H, SDXL's OpenCLIP-bigG, the CLIP towers of SD3 / Flux)
without transformers: ``ClipTextModel`` / ``ClipTextModelWithProjection`` have the module tree, parameter and
buffer names, shapes and numbers (fp32, bit for bit) of transformers 5's ``CLIPTextModel`` /
``CLIPTextModelWithProjection`` with its default SDPA attention, so checkpoint converters, LoRA key tables, weight
patching and the kernel swaps of ``kernels.py`` treat both alike. ``ClipTextConfig`` takes the keyword arguments
NodeFlow gives ``CLIPTextConfig`` and refuses any other with a ValueError (the caller then builds the library's
class)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

# transformers' CLIPTextConfig defaults for every argument NodeFlow may pass (or leave out)
DEFAULTS: dict[str, Any] = {
    "vocab_size": 49408,
    "hidden_size": 512,
    "intermediate_size": 2048,
    "projection_dim": 512,
    "num_hidden_layers": 12,
    "num_attention_heads": 8,
    "max_position_embeddings": 77,
    "hidden_act": "quick_gelu",
    "layer_norm_eps": 1e-5,
    "attention_dropout": 0.0,
    "initializer_range": 0.02,
    "initializer_factor": 1.0,
    "pad_token_id": 1,
    "bos_token_id": 49406,
    "eos_token_id": 49407,
}
_SIZES = ("vocab_size", "hidden_size", "intermediate_size", "projection_dim", "num_hidden_layers")
_SIZES += ("num_attention_heads", "max_position_embeddings")


class QuickGELU(nn.Module):
    """OpenAI CLIP's sigmoid approximation of GELU: x * sigmoid(1.702 x)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class GELU(nn.Module):
    """The exact (erf) GELU, as OpenCLIP's towers use it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x)


ACTIVATIONS: dict[str, type[nn.Module]] = {"quick_gelu": QuickGELU, "gelu": GELU}


class ClipTextConfig:
    """The text tower's hyper-parameters, read as attributes (``config.hidden_size``)."""

    def __init__(self, **kwargs: Any) -> None:
        for key, value in kwargs.items():
            if key not in DEFAULTS:
                raise ValueError(
                    f"NodeFlow's CLIP text encoder does not support the config key {key}={value!r} "
                    f"(it takes {', '.join(DEFAULTS)})"
                )
        values = {**DEFAULTS, **kwargs}
        for key in _SIZES:
            if not isinstance(values[key], int) or values[key] < 1:
                raise ValueError(f"NodeFlow's CLIP text encoder needs a positive integer {key}, got {values[key]!r}")
        if values["hidden_act"] not in ACTIVATIONS:
            raise ValueError(
                f"NodeFlow's CLIP text encoder does not support hidden_act={values['hidden_act']!r} "
                f"(it takes {' or '.join(ACTIVATIONS)})"
            )
        if values["hidden_size"] % values["num_attention_heads"]:
            raise ValueError(
                f"hidden_size={values['hidden_size']} is not a multiple of "
                f"num_attention_heads={values['num_attention_heads']}"
            )
        self.__dict__.update(values)

    def to_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in DEFAULTS}

    def __repr__(self) -> str:
        return f"ClipTextConfig({', '.join(f'{k}={v!r}' for k, v in self.to_dict().items())})"


class ClipTextOutput:
    """The outputs of a plain call, by attribute, by name (``out["last_hidden_state"]``) or by position
    (the fields that are set, in the library's order)."""

    def __init__(self, fields: tuple[str, ...], **values: Any) -> None:
        self._fields = tuple(f for f in fields if values.get(f) is not None)
        for key, value in values.items():
            setattr(self, key, value)

    def to_tuple(self) -> tuple:
        return tuple(getattr(self, f) for f in self._fields)

    def __getitem__(self, key: str | int):
        return getattr(self, key) if isinstance(key, str) else self.to_tuple()[key]

    def keys(self) -> tuple[str, ...]:
        return self._fields


class ClipTextEmbeddings(nn.Module):
    """Token embedding plus learned absolute position embedding."""

    def __init__(self, config: ClipTextConfig) -> None:
        super().__init__()
        self.token_embedding = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embedding = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        # built on the CPU even inside a meta-device build: torch's meta arange imports its symbolic-shape machinery
        positions = torch.arange(config.max_position_embeddings, device="cpu").expand((1, -1))
        self.register_buffer("position_ids", positions, persistent=False)

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
    ) -> torch.Tensor:
        length = input_ids.shape[-1] if input_ids is not None else inputs_embeds.shape[-2]
        limit = self.position_embedding.weight.shape[0]
        if length > limit:
            raise ValueError(f"CLIP text encoder: {length} tokens given, the model has {limit} positions")
        if position_ids is None:
            position_ids = self.position_ids[:, :length]
        if inputs_embeds is None:
            inputs_embeds = self.token_embedding(input_ids)
        return inputs_embeds + self.position_embedding(position_ids)


class ClipAttention(nn.Module):
    """Multi-head self-attention through torch's scaled_dot_product_attention."""

    def __init__(self, config: ClipTextConfig) -> None:
        super().__init__()
        self.config = config
        self.embed_dim = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.head_dim = self.embed_dim // self.num_heads
        self.scale = self.head_dim**-0.5
        self.dropout = config.attention_dropout
        self.is_causal = False
        # registered in the library's order, so state_dict() lists them alike
        self.k_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.v_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.q_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.out_proj = nn.Linear(self.embed_dim, self.embed_dim)

    def forward(
        self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None, is_causal: bool = False
    ) -> tuple[torch.Tensor, None]:
        """(output, None): the second place is the library's attention weights, which SDPA does not give."""
        batch_shape = hidden_states.shape[:-1]
        split = (*batch_shape, -1, self.head_dim)  # [B, T, heads, head_dim], then heads before tokens
        q = self.q_proj(hidden_states).view(split).transpose(1, 2)
        k = self.k_proj(hidden_states).view(split).transpose(1, 2)
        v = self.v_proj(hidden_states).view(split).transpose(1, 2)
        causal = bool(is_causal) and attention_mask is None and q.shape[2] > 1
        out = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=attention_mask,
            dropout_p=self.dropout if self.training else 0.0,
            scale=self.scale,
            is_causal=causal,
        )
        out = out.transpose(1, 2).contiguous().reshape(*batch_shape, -1).contiguous()
        return self.out_proj(out), None


class ClipMLP(nn.Module):
    def __init__(self, config: ClipTextConfig) -> None:
        super().__init__()
        self.config = config
        self.activation_fn = ACTIVATIONS[config.hidden_act]()
        self.fc1 = nn.Linear(config.hidden_size, config.intermediate_size)
        self.fc2 = nn.Linear(config.intermediate_size, config.hidden_size)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.activation_fn(self.fc1(hidden_states)))


class ClipEncoderLayer(nn.Module):
    """Pre-norm transformer block: x + attn(ln1(x)), then x + mlp(ln2(x))."""

    def __init__(self, config: ClipTextConfig) -> None:
        super().__init__()
        self.embed_dim = config.hidden_size
        self.self_attn = ClipAttention(config)
        self.layer_norm1 = nn.LayerNorm(self.embed_dim, eps=config.layer_norm_eps)
        self.mlp = ClipMLP(config)
        self.layer_norm2 = nn.LayerNorm(self.embed_dim, eps=config.layer_norm_eps)

    def forward(
        self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None, is_causal: bool = False
    ) -> torch.Tensor:
        attended, _ = self.self_attn(self.layer_norm1(hidden_states), attention_mask, is_causal)
        hidden_states = hidden_states + attended
        return hidden_states + self.mlp(self.layer_norm2(hidden_states))


class ClipEncoder(nn.Module):
    def __init__(self, config: ClipTextConfig) -> None:
        super().__init__()
        self.config = config
        self.layers = nn.ModuleList(ClipEncoderLayer(config) for _ in range(config.num_hidden_layers))

    def forward(
        self,
        inputs_embeds: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        is_causal: bool = False,
        output_hidden_states: bool = False,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None]:
        """(last layer's output, every layer's input and the last output when asked)."""
        hidden = inputs_embeds
        states = [hidden] if output_hidden_states else None
        for layer in self.layers:
            hidden = layer(hidden, attention_mask, is_causal)
            if states is not None:
                states.append(hidden)
        return hidden, None if states is None else tuple(states)


def _causal_mask(attention_mask: torch.Tensor | None, length: int, device: torch.device) -> torch.Tensor | None:
    """None (SDPA's own causal masking) without padding, else a boolean [B, 1, T, T] mask (True: attend)
    joining causality with the padding mask."""
    if attention_mask is None or bool(attention_mask.all()):
        return None
    positions = torch.arange(length, device=device)
    causal = positions[None, :] <= positions[:, None]
    return causal[None, None] & attention_mask.to(device=device, dtype=torch.bool)[:, None, None, :]


class ClipTextModel(nn.Module):
    """The text transformer with its final LayerNorm; the pooled output is the first end-of-text token's state."""

    def __init__(self, config: ClipTextConfig) -> None:
        super().__init__()
        self.config = config
        self.embeddings = ClipTextEmbeddings(config)
        self.encoder = ClipEncoder(config)
        self.final_layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.eos_token_id = config.eos_token_id

    def get_input_embeddings(self) -> nn.Module:
        return self.embeddings.token_embedding

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        output_hidden_states: bool = False,
    ) -> ClipTextOutput:
        if input_ids is None:
            raise ValueError("CLIP text encoder: input_ids are required")
        input_ids = input_ids.view(-1, input_ids.shape[-1])
        hidden = self.embeddings(input_ids=input_ids, position_ids=position_ids)
        mask = _causal_mask(attention_mask, hidden.shape[1], hidden.device)
        hidden, states = self.encoder(hidden, mask, is_causal=True, output_hidden_states=output_hidden_states)
        last = self.final_layer_norm(hidden)
        ids = input_ids.to(dtype=torch.int, device=last.device)
        # the first end-of-text token (configs with the old eos id 2: the highest id, as transformers does)
        where = ids.argmax(dim=-1) if self.eos_token_id == 2 else (ids == self.eos_token_id).int().argmax(dim=-1)
        pooled = last[torch.arange(last.shape[0], device=last.device), where]
        fields = ("last_hidden_state", "pooler_output", "hidden_states")
        return ClipTextOutput(fields, last_hidden_state=last, pooler_output=pooled, hidden_states=states)


class ClipTextModelWithProjection(nn.Module):
    """``ClipTextModel`` under ``text_model`` and a bias-free projection of its pooled output."""

    def __init__(self, config: ClipTextConfig) -> None:
        super().__init__()
        self.config = config
        self.text_model = ClipTextModel(config)
        self.text_projection = nn.Linear(config.hidden_size, config.projection_dim, bias=False)

    def get_input_embeddings(self) -> nn.Module:
        return self.text_model.embeddings.token_embedding

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        output_hidden_states: bool = False,
    ) -> ClipTextOutput:
        out = self.text_model(input_ids, attention_mask, position_ids, output_hidden_states)
        fields = ("text_embeds", "last_hidden_state", "hidden_states")
        return ClipTextOutput(
            fields,
            text_embeds=self.text_projection(out.pooler_output),
            last_hidden_state=out.last_hidden_state,
            hidden_states=out.hidden_states,
        )


def text_model_class(projection: bool) -> type[nn.Module]:
    return ClipTextModelWithProjection if projection else ClipTextModel
