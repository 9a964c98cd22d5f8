"""Pivotal tuning on tiny generators: it fits, stops, regularises, and never touches the caller's G."""
from __future__ import annotations

import pytest
import torch

from pipeline.invert import PTIConfig, ProjectConfig, pivotal_tune, project, psnr

from tiny_generators import make_known_target, tiny_stylegan2

CPU = torch.device("cpu")
# MSE only for the quality checks (the random trunk may not judge quality).
MSE_ONLY = dict(perceptual_weight=0.0, stop_distance=0.0, backbone="random-vgg")


@pytest.fixture(scope="module")
def case():
    """(G, a short W projection, its target): an image the W pivot cannot reach exactly (two seeds mixed in W+)."""
    G = tiny_stylegan2()
    ws_a, _ = make_known_target(G, seed=1)
    ws_b, _ = make_known_target(G, seed=2)
    with torch.no_grad():
        target = G.synthesis(torch.cat([ws_a[:, :4], ws_b[:, 4:]], 1)).clamp(-1, 1)
    cfg = ProjectConfig(num_steps=10, space="w", perceptual_weight=0.0, pixel_weight=1.0, backbone="random-vgg",
                        w_avg_samples=500)
    return G, project(G, target, config=cfg, device=CPU, progress=False), target


def test_pti_beats_the_pivot_and_leaves_the_caller_alone(case):
    G, pivot, target = case
    before = {k: v.clone() for k, v in G.state_dict().items()}
    tuned = pivotal_tune(G, pivot, target, config=PTIConfig(num_steps=20, lr=3e-3, **MSE_ONLY), device=CPU,
                         progress=False)
    assert tuned.final["psnr"] > pivot.final["psnr"] + 5  # measured: +8.3 dB
    assert tuned.history["mse"][-1] < 0.5 * tuned.history["mse"][0]
    # the caller's generator: same tensors, still frozen
    assert all(torch.equal(before[k], v) for k, v in G.state_dict().items())
    assert not any(p.requires_grad for p in G.parameters())
    # the tuned copy: frozen, pivot's noise maps inside, mapping untouched (it has no gradient)
    assert tuned.G is not G and not any(p.requires_grad for p in tuned.G.parameters())
    tuned_buffers, params = dict(tuned.G.named_buffers()), dict(G.named_parameters())
    assert pivot.noise and all(torch.equal(tuned_buffers[name], value) for name, value in pivot.noise.items())
    for name, p in tuned.G.named_parameters():
        assert torch.equal(p, params[name]) == name.startswith("mapping."), name
    with torch.no_grad():
        assert psnr(tuned.G.synthesis(tuned.ws), target) == pytest.approx(tuned.final["psnr"])


def test_stops_before_stepping_once_close_enough(case):
    G, pivot, target = case
    # The pivot's own rendering: distance 0 and PSNR inf at step 0, so no Adam step is taken.
    cfg = PTIConfig(num_steps=20, stop_distance=1e-3, backbone="random-vgg")
    tuned = pivotal_tune(G, pivot, pivot.image.clamp(-1, 1), config=cfg, device=CPU, progress=False)
    assert tuned.stop_reason == "target_reached" and tuned.steps == 0
    assert all(torch.equal(a, b) for a, b in zip(tuned.G.parameters(), G.parameters()))
    # A distance met at once does not stop the tuning while the PSNR floor is not met.
    loose = dict(num_steps=2, stop_distance=100.0, backbone="random-vgg")
    assert pivotal_tune(G, pivot, target, config=PTIConfig(stop_psnr=0, **loose), device=CPU, progress=False).steps == 0
    strict = pivotal_tune(G, pivot, target, config=PTIConfig(stop_psnr=99, **loose), device=CPU, progress=False)
    assert strict.steps == 2 and strict.stop_reason == "max_steps"


def test_locality_regulariser_runs_and_is_recorded(case):
    G, pivot, target = case
    cfg = PTIConfig(num_steps=3, locality_weight=1.0, **MSE_ONLY)
    tuned = pivotal_tune(G, pivot.ws, target, config=cfg, device=CPU, progress=False)
    # zero at the first step (tuned == original), then the weights have moved away from the original
    assert tuned.steps == 3 and tuned.history["locality"][0] == 0 < tuned.history["locality"][-1]


def test_pivot_must_fit_the_generator(case):
    G, _, target = case
    with pytest.raises(ValueError, match="ws must be"):
        pivotal_tune(G, torch.zeros(1, 3, G.w_dim), target, config=PTIConfig(**MSE_ONLY), device=CPU, progress=False)


def test_relative_lr_steps_each_tensor_by_its_own_scale(case):
    from pipeline.invert.pti import _param_groups

    G = case[0]
    tuned = __import__("copy").deepcopy(G).requires_grad_(True)
    groups = {id(g["params"][0]): g["lr"] for g in _param_groups(tuned, PTIConfig(lr=1e-3))}
    for name, p in tuned.named_parameters():
        rms = p.detach().square().mean().sqrt().item()
        expected = 1e-3 if p.ndim == 1 else 1e-3 * rms  # biases by lr, weights and scalars by lr x RMS
        assert groups[id(p)] == pytest.approx(expected), name
    absolute = _param_groups(tuned, PTIConfig(lr=1e-3, relative_lr=False))
    assert all(g["lr"] == 1e-3 for g in absolute)


def test_bf16_pti_renders_what_it_trained(case):
    """Each step's forward in its own autocast region: the float32 render afterwards fits too."""
    G, pivot, target = case
    cfg = PTIConfig(num_steps=25, lr=3e-3, bf16=True, **MSE_ONLY)
    tuned = pivotal_tune(G, pivot, target, config=cfg, device=CPU, progress=False)
    with torch.no_grad():
        render = tuned.G.synthesis(tuned.ws)
    assert psnr(render, target) > psnr(pivot.image, target) + 1.0
    assert psnr(render, target) == pytest.approx(tuned.final["psnr"], abs=0.01)
