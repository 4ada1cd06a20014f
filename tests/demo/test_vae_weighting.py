"""The VAE trainer weighs the pixels of small shapes more, so that the 8x-down latents keep them."""

import torch

from nodeflow.demo.train_vae import make_pool, small_shape_boost


def test_small_shapes_weigh_up_to_four_times_more_and_large_ones_not_more():
    masks = torch.zeros(3, 1, 64, 64, dtype=torch.bool)
    masks[0, :, :32, :32] = True  # a quarter of the image: at least the 15% "full" area
    masks[1, :, :20, :20] = True  # ~9.8%: boosted by 0.15 / 0.098
    masks[2, :, :4, :4] = True  # 0.4%: capped at 4x
    boost = small_shape_boost(masks).flatten().tolist()
    assert boost[0] == 1.0
    assert abs(boost[1] - 0.15 / (400 / 4096)) < 1e-5
    assert boost[2] == 4.0
    assert small_shape_boost(torch.zeros(1, 1, 8, 8, dtype=torch.bool)).item() == 4.0  # no shape: no division by 0


def test_rendered_pool_gives_small_shapes_more_weight_than_large_ones():
    images, masks = make_pool(64, seed=5)
    boost = small_shape_boost(masks).flatten()
    area = masks.float().mean(dim=(1, 2, 3))
    assert images.dtype == torch.uint8 and boost.min() >= 1.0 and boost.max() <= 4.0
    # the smaller the shapes, the larger the weight
    assert boost[area.argmin()] > boost[area.argmax()]
