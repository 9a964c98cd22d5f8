"""The losses: disc shape, locality of the motion gradient, the mask weight at feature resolution."""
import torch

from pipeline.drag.motion_supervision import disc_offsets, fixed_region_loss, fixed_region_weight, motion_loss


def test_disc_is_strict_and_unit_spaced():
    off = disc_offsets(3.0)
    assert len(off) == 25  # lattice points with length < 3 (the official strict disc at 512 px)
    assert (off.norm(dim=1) < 3).all() and torch.equal(off, off.round())
    assert disc_offsets(0.5).tolist() == [[0.0, 0.0]]


def test_motion_loss_zero_for_features_constant_along_the_drag():
    # Features that vary only with y: moving along x changes nothing.
    ys = torch.linspace(-1, 1, 16)[:, None].expand(16, 16)
    feats = torch.stack([ys, ys**2])[None].clone().requires_grad_(True)
    loss = motion_loss(feats, torch.tensor([[10.0, 12.0]]), torch.tensor([[20.0, 12.0]]), radius=3, image_size=(32, 32))
    assert loss.item() < 1e-6
    loss_y = motion_loss(feats, torch.tensor([[10.0, 12.0]]), torch.tensor([[10.0, 20.0]]), radius=3, image_size=(32, 32))
    assert loss_y.item() > 1e-3


def test_motion_gradient_stays_near_the_handle():
    torch.manual_seed(0)
    feats = torch.randn(1, 4, 32, 32, requires_grad=True)
    loss = motion_loss(feats, torch.tensor([[16.0, 16.0]]), torch.tensor([[30.0, 16.0]]), radius=3, image_size=(32, 32))
    loss.backward()
    rows, cols = (feats.grad[0].abs().sum(0) != 0).nonzero().T
    assert len(rows) > 0
    # Shifted disc: x in (16-3, 16+3+1), y in (16-3, 16+3)
    assert cols.min() >= 13 and cols.max() <= 20 and rows.min() >= 13 and rows.max() <= 19


def test_fixed_region_weight_is_area_downsampled_complement():
    mask = torch.zeros(64, 64)
    mask[:, :32] = 1  # left half flexible
    mask[0, 63] = 1  # one stray pixel: a quarter of a 2x2 cell
    w = fixed_region_weight(mask, (32, 32))
    assert w.shape == (1, 1, 32, 32)
    assert (w[0, 0, :, :16] == 0).all()
    assert w[0, 0, 0, 31] == 0.75 and (w[0, 0, 1:, 16:] == 1).all()
    f0 = torch.zeros(1, 2, 32, 32)
    f = f0.clone()
    f[..., :16] = 5.0  # change only in the flexible half: no penalty
    assert fixed_region_loss(f, f0, w).item() == 0.0
    f[..., 20] = 1.0
    assert fixed_region_loss(f, f0, w).item() > 0
