"""MobileStyleGAN's building blocks on random weights: the inverse Haar DWT, memory formats, batches."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from pipeline.gan.mobilestylegan import MobileStyleGANConfig, MobileStyleGANGenerator
from pipeline.gan.mobilestylegan.wavelets import haar_synthesis_kernel, inverse_haar

SMALL = MobileStyleGANConfig(z_dim=16, w_dim=16, mapping_layers=2, channels=(32, 32, 16, 8))


def haar_analysis(img: torch.Tensor) -> torch.Tensor:
    """The forward orthonormal Haar DWT of [N, C, 2H, 2W] in the export's band layout [N, 4C, H, W]."""
    a, b = img[..., 0::2, 0::2], img[..., 0::2, 1::2]
    c, d = img[..., 1::2, 0::2], img[..., 1::2, 1::2]
    ll, h1, h2, h3 = (a + b + c + d) / 2, (a + b - c - d) / 2, (a - b + c - d) / 2, (a - b - c + d) / 2
    n, ch, h, w = ll.shape
    high = torch.stack([h1, h2, h3], dim=2).reshape(n, 3 * ch, h, w)  # channel c's bands adjacent
    return torch.cat([ll, high], dim=1)


def test_inverse_haar_inverts_the_haar_transform_in_both_memory_formats():
    torch.manual_seed(0)
    img = torch.randn(2, 3, 16, 16)
    bands = haar_analysis(img)
    kernel = haar_synthesis_kernel()
    assert torch.allclose(inverse_haar(bands, kernel), img, atol=1e-5)
    channels_last = bands.contiguous(memory_format=torch.channels_last)
    out = inverse_haar(channels_last, kernel)
    assert out.is_contiguous(memory_format=torch.channels_last) and torch.allclose(out, img, atol=1e-5)
    # The 2x2 mean of the output is half its low-pass band: area-downsampling needs no IDWT.
    assert torch.allclose(F.avg_pool2d(out, 2), bands[:, :3] / 2, atol=1e-5)


def random_generator() -> MobileStyleGANGenerator:
    torch.manual_seed(0)
    G = MobileStyleGANGenerator(SMALL)
    with torch.no_grad():
        for p in G.parameters():
            p.normal_(0, 0.3)
        for name, buf in G.named_buffers():
            if name.endswith("noise_const"):
                buf.normal_()
    return G.eval().requires_grad_(False)


def test_small_layout_sizes_and_batch_rows_are_independent():
    G = random_generator()
    assert (G.num_ws, G.img_resolution) == (1 + 3 * 3 + 1, 64)
    ws = G.mapping(torch.randn(3, 16))
    assert ws.shape == (3, G.num_ws, 16)
    together = G.synthesis(ws)
    alone = torch.cat([G.synthesis(ws[i:i + 1]) for i in range(3)])
    assert together.shape == (3, 3, 64, 64) and torch.allclose(together, alone, atol=1e-4)


def test_truncation_and_cutoff():
    G = random_generator()
    G.mapping_net.w_avg.normal_()
    z = torch.randn(1, 16)
    full, half = G.mapping(z), G.mapping(z, truncation_psi=0.5)
    assert torch.allclose(half, G.w_avg + 0.5 * (full - G.w_avg), atol=1e-6)
    cut = G.mapping(z, truncation_psi=0.5, truncation_cutoff=4)
    assert torch.allclose(cut[:, :4], half[:, :4]) and torch.allclose(cut[:, 4:], full[:, 4:])
