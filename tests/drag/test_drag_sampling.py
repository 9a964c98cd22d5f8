"""Sampling the low-resolution map equals reading the official upsampled map at integer pixels."""
import pytest
import torch
import torch.nn.functional as F

from pipeline.drag.sampling import sample_features


@pytest.mark.parametrize("h,H", [(16, 64), (32, 64), (8, 8), (128, 512)])
def test_integer_pixels_match_bilinear_upsample(h, H):
    torch.manual_seed(0)
    feats = torch.randn(1, 5, h, h)
    up = F.interpolate(feats, size=(H, H), mode="bilinear", align_corners=False)  # the official resize
    ys, xs = torch.meshgrid(torch.arange(H), torch.arange(H), indexing="ij")
    xy = torch.stack([xs, ys], dim=-1).float()  # [H, H, 2] every pixel, borders included
    sampled = sample_features(feats, xy, (H, H))  # [H, H, C]
    assert torch.allclose(sampled.permute(2, 0, 1), up[0], atol=1e-5)


def test_gradient_reaches_only_the_neighbouring_feature_pixels():
    feats = torch.randn(1, 3, 16, 16, requires_grad=True)
    sample_features(feats, torch.tensor([[20.3, 7.6]]), (64, 64)).sum().backward()
    touched = (feats.grad[0, 0] != 0).nonzero().tolist()
    # x 20.3 -> feature 4.83, y 7.6 -> 1.65: the 2x2 neighbourhood (rows 1-2, cols 4-5)
    assert sorted(touched) == [[1, 4], [1, 5], [2, 4], [2, 5]]
