"""Prompt weighting syntax, chunking of long prompts, clip skip and textual inversions."""

import pytest
import torch
from safetensors.torch import save_file

from nodeflow.models.loader import load_checkpoint
from nodeflow.models.prompt_weights import parse_weights, split_embeddings


@pytest.mark.parametrize(
    "text,expected",
    [
        ("a red star", [("a red star", 1.0)]),
        ("a (red:1.5) star", [("a ", 1.0), ("red", 1.5), (" star", 1.0)]),
        ("(red)", [("red", 1.1)]),
        ("((red))", [("red", pytest.approx(1.21))]),
        ("[red]", [("red", pytest.approx(1 / 1.1))]),
        ("(a (b:2):0.5)", [("a ", 0.5), ("b", 1.0)]),
        ("\\(literal\\) x", [("(literal) x", 1.0)]),
        ("(unclosed", [("(unclosed", 1.0)]),
        ("(a:b)", [("a:b", pytest.approx(1.1))]),
        ("(x:1.2) and (y:1.2)", [("x", 1.2), (" and ", 1.0), ("y", 1.2)]),
        ("", []),
    ],
)
def test_prompt_weight_parsing(text, expected):
    assert parse_weights(text) == expected


def test_embedding_markers_are_split_out():
    assert split_embeddings("an embedding:my_style, bright") == [
        ("an ", False),
        ("my_style", True),
        (", bright", False),
    ]


@pytest.fixture(scope="module")
def clip(tiny_ckpt_file):
    return load_checkpoint(tiny_ckpt_file)[1]


def reference_forward(clip, ids, hidden_index=None):
    """transformers' own forward of the same tower (the CLIP-L in the tiny checkpoint)."""
    module = clip.encoders[0].model.module
    out = module(input_ids=torch.tensor([ids]), output_hidden_states=True)
    return out


def test_encoding_matches_the_transformers_forward(clip):
    cond, pooled, _ = clip.encode("a red star")
    tokens = clip.tokenize("a red star", clip.encoders[0])[0]
    ids = [t for t, _ in tokens]
    ref = reference_forward(clip, ids)
    assert cond.shape == (1, 77, 32)
    assert torch.allclose(cond, ref.last_hidden_state, atol=1e-5)
    eos = ids.index(49407)
    assert torch.allclose(pooled, ref.last_hidden_state[:, eos], atol=1e-5)


def test_clip_skip_uses_the_earlier_layer_with_final_norm(clip):
    skipped = clip.clone()
    skipped.set_last_layer(-2)
    cond, _, _ = skipped.encode("a red star")
    ids = [t for t, _ in clip.tokenize("a red star", clip.encoders[0])[0]]
    ref = reference_forward(clip, ids)
    module = clip.encoders[0].model.module
    expected = module.final_layer_norm(ref.hidden_states[-2])
    assert torch.allclose(cond, expected, atol=1e-5)
    assert clip.encoders[0].layer == -1  # the original is untouched
    with pytest.raises(ValueError, match="negative"):
        skipped.set_last_layer(1)


def test_long_prompts_are_encoded_in_75_token_chunks(clip):
    cond, _, _ = clip.encode("red star " * 60)  # 120 tokens -> 2 chunks
    assert cond.shape == (1, 154, 32)
    chunks = clip.tokenize("red star " * 60, clip.encoders[0])
    assert [len(c) for c in chunks] == [77, 77]
    assert all(c[0][0] == 49406 for c in chunks)


def test_weights_scale_distance_from_the_empty_prompt(clip):
    plain, _, _ = clip.encode("a red star")
    weighted, _, _ = clip.encode("a (red:1.5) star")
    empty, _, _ = clip.encode("")
    ids = clip.tokenize("a red star", clip.encoders[0])[0]
    red_pos = [i for i, (t, _) in enumerate(ids) if t not in (49406, 49407)][1]
    expected = empty[:, red_pos] + (plain[:, red_pos] - empty[:, red_pos]) * 1.5
    assert torch.allclose(weighted[:, red_pos], expected, atol=1e-5)
    others = [i for i in range(77) if i != red_pos]
    assert torch.allclose(weighted[:, others], plain[:, others], atol=1e-5)


def test_textual_inversion_vectors_replace_token_embeddings(clip, tmp_path):
    from nodeflow.models.embeddings import embedding_finder

    vectors = torch.randn(2, 32)
    save_file({"emb_params": vectors}, str(tmp_path / "shiny.safetensors"))
    torch.save({"string_to_param": {"*": vectors}}, tmp_path / "shiny_a1111.pt")
    find = embedding_finder([tmp_path])
    a, _, _ = clip.encode("a embedding:shiny star", find_embedding=find)
    b, _, _ = clip.encode("a embedding:shiny_a1111 star", find_embedding=find)
    plain, _, _ = clip.encode("a star")
    assert torch.allclose(a, b) and not torch.allclose(a, plain)
    tokens = clip.tokenize("a embedding:shiny star", clip.encoders[0], find)[0]
    assert torch.equal(tokens[2][0], vectors[0]) and torch.equal(tokens[3][0], vectors[1])
    with pytest.raises(ValueError, match="not found"):
        clip.encode("embedding:nothing", find_embedding=find)
    save_file({"clip_g": torch.randn(1, 1280)}, str(tmp_path / "xl_only.safetensors"))
    with pytest.raises(ValueError, match="width"):
        clip.encode("embedding:xl_only", find_embedding=find)


def test_sdxl_style_embedding_picks_its_tower(tmp_path):
    from nodeflow.models.embeddings import load_embedding

    save_file({"clip_l": torch.ones(1, 768), "clip_g": torch.zeros(3, 1280)}, str(tmp_path / "e.safetensors"))

    def find(name):
        return tmp_path / f"{name}.safetensors"

    assert len(load_embedding("e", find, 768, "clip_l")) == 1
    assert len(load_embedding("e", find, 1280, "clip_g")) == 3
