"""The projector on tiny generators: recovery, W vs W+, noise maps, early stop, NaN, inputs."""
from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from pipeline.common import UserError
from pipeline.invert import ProjectConfig, project, psnr
from pipeline.invert.noise import noise_buffer_names
from pipeline.invert.project import _lr_ramp, w_statistics

CPU = torch.device("cpu")
# Pixel loss only: a real objective (not the random trunk) for the tests that judge quality.
PIXEL = dict(perceptual_weight=0.0, pixel_weight=1.0, backbone="random-vgg", w_avg_samples=500)


def test_w_plus_projection_recovers_a_known_latent(G, known_target):
    ws_true, target = known_target(G)
    with torch.no_grad():
        start = G.synthesis(G.w_avg.expand(1, G.num_ws, -1).clone())
    proj = project(G, target, config=ProjectConfig(num_steps=30, **PIXEL), device=CPU, progress=False)
    assert proj.space == "w+" and proj.ws.shape == (1, G.num_ws, G.w_dim)
    assert proj.history["pixel"][-1] < 0.3 * proj.history["pixel"][0]
    assert proj.final["psnr"] > psnr(start, target) + 5  # measured: +6.3 dB
    assert proj.final["psnr"] == pytest.approx(psnr(proj.image, target))
    # The image it reports is what G with its noise maps renders from ws.
    with torch.no_grad():
        again = proj.generator(G).synthesis(proj.ws)
    assert torch.allclose(again, proj.image, atol=1e-5)


def test_projection_never_modifies_the_callers_generator(G, known_target):
    _, target = known_target(G)
    before = {k: v.clone() for k, v in G.state_dict().items()}
    project(G, target, config=ProjectConfig(num_steps=3, **PIXEL), device=CPU, progress=False)
    after = G.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not any(p.requires_grad for p in G.parameters())


def test_noise_maps_are_found_by_name_optimised_and_normalised(G, known_target):
    _, target = known_target(G)
    proj = project(G, target, config=ProjectConfig(num_steps=4, **PIXEL), device=CPU, progress=False)
    names = noise_buffer_names(G)
    assert names and set(proj.noise) == set(names)
    for name, value in proj.noise.items():
        assert value.mean().abs() < 1e-4 and value.square().mean().sqrt().item() == pytest.approx(1, abs=1e-3)
        assert not torch.equal(value, dict(G.named_buffers())[name])
    kept = project(G, target, config=ProjectConfig(num_steps=2, optimize_noise=False, **PIXEL), device=CPU,
                   progress=False)
    assert kept.noise == {}


def test_w_space_repeats_one_latent(G, known_target):
    _, target = known_target(G)
    proj = project(G, target, config=ProjectConfig(num_steps=3, space="w", **PIXEL), device=CPU, progress=False)
    assert proj.space == "w"
    assert torch.equal(proj.ws, proj.ws[:, :1].expand_as(proj.ws))


def test_single_latent_generator_without_noise_maps(dcgan, known_target):
    ws_true, target = known_target(dcgan)
    proj = project(dcgan, target, config=ProjectConfig(num_steps=40, **PIXEL), device=CPU, progress=False)
    assert proj.space == "w" and proj.ws.shape == (1, 1, dcgan.w_dim) and proj.noise == {}
    assert proj.final["psnr"] > 30


def test_plateau_stops_early_and_says_so(G, known_target):
    _, target = known_target(G)
    cfg = ProjectConfig(num_steps=50, plateau_window=3, plateau_tolerance=10.0, **PIXEL)
    proj = project(G, target, config=cfg, device=CPU, progress=False)
    assert proj.stop_reason == "plateau" and proj.steps == 6


def test_nan_loss_is_reported_not_returned(G, known_target):
    _, target = known_target(G)
    broken = next(p for n, p in G.named_parameters() if n.startswith("synthesis."))
    with torch.no_grad():
        broken.fill_(math.nan)
    with pytest.raises(UserError, match="projection diverged"):
        project(G, target, config=ProjectConfig(num_steps=3, **PIXEL), device=CPU, progress=False)


def test_bad_targets_are_refused(G):
    with pytest.raises(ValueError, match=r"target must be one image \[1, 3, 32, 32\]"):
        project(G, torch.zeros(1, 3, 16, 16), config=ProjectConfig(**PIXEL), device=CPU, progress=False)
    with pytest.raises(ValueError, match="in \\[-1, 1\\]"):
        project(G, torch.full((1, 3, 32, 32), 3.0), config=ProjectConfig(**PIXEL), device=CPU, progress=False)


def test_learning_rate_schedule_and_w_statistics(G):
    assert _lr_ramp(0.0, 0.05, 0.25) == 0
    assert _lr_ramp(0.5, 0.05, 0.25) == 1
    assert _lr_ramp(0.9, 0.05, 0.25) == pytest.approx(0.5 - 0.5 * math.cos(0.4 * math.pi))
    w_avg, w_std = w_statistics(G, num_samples=2000, seed=0, device=CPU)
    assert torch.allclose(w_avg[0, 0], G.w_avg, atol=0.2 * w_std / math.sqrt(G.w_dim))
    assert w_std > 0


def test_config_is_checked():
    with pytest.raises(ValueError, match="space"):
        ProjectConfig(space="z")
    with pytest.raises(ValueError, match="backbone"):
        ProjectConfig(backbone="alex")
    with pytest.raises(ValueError, match="nothing to optimise"):
        ProjectConfig(perceptual_weight=0, pixel_weight=0)


def test_clipped_comparison_pulls_pixels_back_into_range_but_never_further_out():
    from pipeline.invert.fidelity import as_displayed

    x = torch.tensor([0.5, 0.5, 3.0, 3.0, -3.0, -3.0], requires_grad=True)
    upstream = torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])  # d loss / d displayed pixel
    (as_displayed(x) * upstream).sum().backward()
    # Inside the range: unchanged. At +3 a descent step (x -= grad) may only lower the pixel,
    # at -3 only raise it; a push further out (which changes nothing shown) is dropped.
    assert x.grad.tolist() == [1.0, -1.0, 1.0, 0.0, 0.0, -1.0]
    assert as_displayed(x).tolist() == [0.5, 0.5, 1.0, 1.0, -1.0, -1.0]


def test_a_w_plus_stage_continues_from_a_w_stage(G, known_target):
    _, target = known_target(G)
    w_stage = project(G, target, config=ProjectConfig(num_steps=8, space="w", **PIXEL), device=CPU, progress=False)
    # lr ~0: the W+ stage must start exactly where the W stage ended (not at w_avg), noise maps included.
    frozen = ProjectConfig(num_steps=2, space="w+", initial_lr=1e-12, initial_noise_factor=0.0, **PIXEL)
    cont = project(G, target, config=frozen, device=CPU, start=w_stage, progress=False)
    assert cont.space == "w+" and torch.allclose(cont.ws, w_stage.ws, atol=1e-6)
    assert set(cont.noise) == set(w_stage.noise)
    assert abs(cont.final["psnr"] - w_stage.final["psnr"]) < 0.05
    kept = project(G, target, config=dataclasses.replace(frozen, optimize_noise=False), device=CPU, start=w_stage,
                   progress=False)
    assert all(torch.equal(kept.noise[k], w_stage.noise[k]) for k in w_stage.noise)  # the start's maps, carried


def test_coarse_phase_compares_at_its_own_resolution(G, known_target, monkeypatch):
    _, target = known_target(G)
    from pipeline.invert.perceptual import PerceptualDistance

    seen = []
    original = PerceptualDistance.features

    def spy(self, img, *, resolution=None):
        seen.append(resolution)
        return original(self, img, resolution=resolution)

    monkeypatch.setattr(PerceptualDistance, "features", spy)
    cfg = ProjectConfig(num_steps=4, backbone="random-vgg", w_avg_samples=100, perceptual_resolution=32,
                        coarse_resolution=16, coarse_fraction=0.5)
    project(G, target, config=cfg, device=CPU, progress=False)
    # target at 32 and at 16 px, then steps 0-1 coarse, 2-3 fine, then the final metrics (default).
    assert seen[:6] == [32, 16, 16, 16, 32, 32]
