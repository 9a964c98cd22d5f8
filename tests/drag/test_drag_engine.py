"""The drag loop on tiny generators: what may change, what must not, stopping, masks, errors."""
import numpy as np
import pytest
import torch

from pipeline.common import UserError
from pipeline.drag import DragConfig, StopDrag, drag
from pipeline.gan import build_generator, seeded_z

CPU = torch.device("cpu")

FAR = dict(handles=[(10.0, 12.0)], targets=[(24.0, 12.0)])  # 14 px: not reached in a few steps


def test_handle_on_target_changes_nothing(tiny_G, tiny_ws):
    params = {k: v.clone() for k, v in tiny_G.state_dict().items()}
    r = drag(tiny_G, tiny_ws, [(11.0, 7.0)], [(11.0, 7.0)], config=DragConfig(max_steps=5), device=CPU)
    assert r.converged and r.status == "converged" and r.steps == 0
    assert torch.equal(r.ws, tiny_ws)
    assert torch.equal(r.image, tiny_G.synthesis(tiny_ws))
    assert r.trajectory == [[(11.0, 7.0)]] and r.distances == [0.0]
    assert all(torch.equal(v, params[k]) for k, v in tiny_G.state_dict().items())


def test_only_the_leading_ws_entries_change(tiny_G, tiny_ws):
    params = {k: v.clone() for k, v in tiny_G.state_dict().items()}
    r = drag(tiny_G, tiny_ws, **FAR, config=DragConfig(max_steps=3, num_optimized_ws=4, lr=1e-2, feature_block="b16"), device=CPU)
    assert r.steps == 3 and r.status == "max_steps" and not r.converged
    assert torch.equal(r.ws[:, 4:], tiny_ws[:, 4:])
    assert (r.ws[:, :4] - tiny_ws[:, :4]).abs().amax(dim=-1).min() > 0  # every optimised entry moved
    assert all(torch.equal(v, params[k]) for k, v in tiny_G.state_dict().items())
    assert all(p.grad is None for p in tiny_G.parameters())
    assert len(r.trajectory) == 4 and len(r.seconds_per_step) == 3
    assert not tiny_ws.requires_grad


def test_step_cap_always_holds(tiny_G, tiny_ws):
    r = drag(tiny_G, tiny_ws, **FAR, config=DragConfig(max_steps=0), device=CPU)
    assert r.steps == 0 and r.status == "max_steps" and torch.equal(r.ws, tiny_ws)


def test_mask_keeps_the_fixed_region(tiny_G, tiny_ws):
    size = tiny_G.img_resolution
    mask = np.zeros((size, size), dtype=np.float32)
    mask[4:20, 4:28] = 1  # flexible box around the drag; the bottom third stays fixed
    block = "b16"
    cfg = DragConfig(max_steps=8, lr=1e-2, feature_block=block)
    f0 = tiny_G.synthesis_features(tiny_ws, block)

    def fixed_change(result):
        f = tiny_G.synthesis_features(result.ws, block)
        keep = 1 - torch.nn.functional.interpolate(torch.from_numpy(mask)[None, None], size=f.shape[-2:], mode="area")
        return ((f - f0).abs() * keep).sum().item()

    free = drag(tiny_G, tiny_ws, **FAR, config=cfg, device=CPU)
    held = drag(tiny_G, tiny_ws, **FAR, mask=mask, config=cfg, device=CPU)
    assert held.settings.lambda_mask == 20  # the paper's, for a model without drag_defaults
    assert fixed_change(held) < 0.3 * fixed_change(free)
    # the image moved at all in both runs
    assert fixed_change(free) > 0


def test_callback_sees_every_step_and_can_stop(tiny_G, tiny_ws):
    seen = []

    def stop_at_two(step, state):
        seen.append((step, len(state.handles), state.ws.shape))
        return step < 2

    r = drag(tiny_G, tiny_ws, **FAR, config=DragConfig(max_steps=10), device=CPU, callback=stop_at_two)
    assert r.status == "stopped" and r.steps == 2 and [s[0] for s in seen] == [0, 1, 2]
    assert seen[0][2] == tiny_ws.shape

    def raise_stop(step, state):
        if step == 1:
            raise StopDrag()

    r = drag(tiny_G, tiny_ws, **FAR, config=DragConfig(max_steps=10), device=CPU, callback=raise_stop)
    assert r.status == "stopped" and r.steps == 1


def test_preview_render_matches_the_state(tiny_G, tiny_ws):
    images = {}

    def keep(step, state):
        images[step] = (state.render(), state.ws.clone())

    drag(tiny_G, tiny_ws, **FAR, config=DragConfig(max_steps=2), device=CPU, callback=keep)
    for image, ws in images.values():
        assert torch.equal(image, tiny_G.synthesis(ws))


def test_nan_stops_with_the_last_finite_state(tiny_G, tiny_ws, monkeypatch):
    calls = {"n": 0}
    real = tiny_G.synthesis_features

    def flaky(ws, block, noise_mode="const"):
        calls["n"] += 1
        out = real(ws, block, noise_mode)
        return out * float("nan") if calls["n"] >= 4 else out

    monkeypatch.setattr(tiny_G, "synthesis_features", flaky)
    snaps = []
    r = drag(tiny_G, tiny_ws, **FAR, config=DragConfig(max_steps=20, lr=1e-2), device=CPU,
             callback=lambda step, state: snaps.append(state.ws.clone()))
    assert r.status == "nan" and not r.converged
    # features 1..3 finite (steps 0, 1, 2); the 4th forward (after step 3) is NaN
    assert r.steps == 2 and len(r.trajectory) == 3 and len(r.seconds_per_step) == 2
    assert torch.isfinite(r.ws).all() and torch.equal(r.ws, snaps[-1])


def test_single_latent_generator():
    torch.manual_seed(0)
    G = build_generator("dcgan", {"z_dim": 16, "ngf": 8}).eval()
    ws = G.mapping(seeded_z(0, 16))
    r = drag(G, ws, [(20.0, 20.0)], [(28.0, 20.0)], config=DragConfig(max_steps=2, lr=0.05), device=CPU)
    assert r.settings.num_optimized_ws == 1 and r.settings.feature_block == "l3"
    assert r.steps == 2 and not torch.equal(r.ws, ws) and r.image.shape == (1, 3, 64, 64)


@pytest.mark.parametrize(
    "handles,targets,mask,match",
    [
        ([], [], None, "no drag points"),
        ([(1, 1)], [(2, 2), (3, 3)], None, "1 handles but 2 targets"),
        ([(1, 1)], [(32, 2)], None, "outside the 32x32 image"),
        ([(-1, 1)], [(3, 2)], None, "outside"),
        ([(float("nan"), 1)], [(3, 2)], None, "finite"),
        ([(1, 1)], [(3, 2)], np.ones((16, 16)), "mask is 16x16 but the image is 32x32"),
        ([(1, 1)], [(3, 2)], np.full((32, 32), 0.5), "not binary"),
        ([(1, 1)], [(3, 2)], np.zeros((32, 32)), "no pixel as flexible"),
        ([(1, 1), (5, 5)], [(3, 2), (6, 6)], np.pad(np.ones((1, 1)), ((0, 31), (0, 31))), "2 points but only 1 flexible"),
        ([(1, 1), (1.2, 0.9)], [(3, 2), (6, 6)], None, "same pixel"),
    ],
)
def test_bad_input_is_one_line_user_error(tiny_G, tiny_ws, handles, targets, mask, match):
    with pytest.raises(UserError, match=match) as info:
        drag(tiny_G, tiny_ws, handles, targets, mask=mask, device=CPU)
    assert "\n" not in str(info.value)


def test_convergence_on_the_reference_generator(fixture_G):
    # A 5 px drag on the NVIDIA-parity fixture (64 px): reaches the stop distance well within the cap.
    ws = fixture_G.mapping(seeded_z(1, fixture_G.z_dim), truncation_psi=0.7)
    r = drag(fixture_G, ws, [(31.0, 33.0)], [(27.0, 36.0)], config=DragConfig(lr=1e-2, max_steps=60), device=CPU)
    assert r.converged and r.steps < 60
    assert r.distances[0] <= r.settings.stop_distance == 1.0
    assert r.trajectory[-1] != r.trajectory[0]


def test_convergence_on_the_demo_model():
    # The shipped 64 px demo generator (single latent): a 7 px drag reaches the target.
    from pipeline.gan.loading import load_generator

    G = load_generator("demo-face-64", device=CPU)
    ws = G.mapping(seeded_z(1004, G.z_dim), truncation_psi=0.7)
    r = drag(G, ws, [(28.0, 24.0)], [(32.0, 18.0)], config=DragConfig(lr=3e-2, max_steps=100), device=CPU)
    assert r.converged and r.distances[0] <= 1.0
    assert r.settings.feature_block == "l3"


def test_a_drag_that_cannot_progress_stops_as_stalled(tiny_G, tiny_ws):
    cfg = DragConfig(max_steps=60, lr=1e-9, feature_block="b16", stall_steps=5)  # the latent barely moves
    r = drag(tiny_G, tiny_ws, **FAR, config=cfg, device=CPU)
    assert r.status == "stalled" and not r.converged and r.steps == 5
    never = drag(tiny_G, tiny_ws, **FAR, config=DragConfig(max_steps=8, lr=1e-9, feature_block="b16", stall_steps=0),
                 device=CPU)
    assert never.status == "max_steps" and never.steps == 8


def test_unset_fields_take_the_models_drag_defaults(tiny_G, tiny_ws, monkeypatch):
    paper = drag(tiny_G, tiny_ws, **FAR, config=DragConfig(max_steps=1, feature_block="b16"), device=CPU).settings
    assert (paper.lambda_mask, paper.num_optimized_ws, paper.tracking_band, paper.stall_steps) == (20.0, 6, 0.0, 0)
    assert paper.stop_distance == 1.0  # the paper's 1 px at 512, floored at 1 px for this 32 px model
    monkeypatch.setattr(type(tiny_G), "drag_defaults",
                        lambda self: {"lambda_mask": 5.0, "num_optimized_ws": 3, "tracking_band_at_512": 64.0,
                                      "stall_steps": 7})
    own = drag(tiny_G, tiny_ws, **FAR, config=DragConfig(max_steps=1, feature_block="b16"), device=CPU).settings
    assert (own.lambda_mask, own.num_optimized_ws, own.tracking_band, own.stall_steps) == (5.0, 3, 4.0, 7)
    told = drag(tiny_G, tiny_ws, **FAR, config=DragConfig(max_steps=1, feature_block="b16", lambda_mask=1.0),
                device=CPU).settings
    assert told.lambda_mask == 1.0  # what the caller sets wins


def test_a_handle_inside_the_stop_distance_is_still_pulled_until_the_supervise_distance(tiny_G, tiny_ws):
    # Stop distance 4 px on this 32 px model; handle A starts 3 px from its target, B 14 px.
    near = dict(handles=[(6.0, 20.0)], targets=[(9.0, 20.0)])
    both = dict(handles=near["handles"] + FAR["handles"], targets=near["targets"] + FAR["targets"])
    base = dict(max_steps=1, lr=1e-2, feature_block="b16", stop_distance_at_512=64.0)

    def ws_after_one_step(points, supervise):
        cfg = DragConfig(**base, supervise_distance=supervise)
        return drag(tiny_G, tiny_ws, **points, config=cfg, device=CPU).ws

    assert drag(tiny_G, tiny_ws, **near, config=DragConfig(**base), device=CPU).settings.stop_distance == 4.0
    far_only = ws_after_one_step(FAR, 1.0)
    # Let go at the stop distance: A adds nothing to the step.
    assert torch.allclose(ws_after_one_step(both, None), far_only, atol=1e-7)
    # Pulled until 1 px (the official rule): A's motion term changes the step.
    assert not torch.allclose(ws_after_one_step(both, 1.0), far_only, atol=1e-5)


def test_the_fixed_region_weight_halves_while_the_drag_makes_no_progress(tiny_G, tiny_ws):
    mask = np.zeros((32, 32), dtype=np.float32)
    mask[4:20, 4:28] = 1
    stuck = dict(max_steps=60, lr=1e-9, feature_block="b16", stall_steps=20, lambda_mask=20.0)  # the latent barely moves
    relaxed = drag(tiny_G, tiny_ws, **FAR, mask=mask, config=DragConfig(**stuck, mask_relax_steps=5), device=CPU)
    # 20 -> 10 at step 5, -> 5 (the floor) at step 10, then 20 steps without progress under the floor's weight.
    assert relaxed.final_lambda_mask == 5.0 and relaxed.settings.lambda_mask == 20.0
    assert relaxed.status == "stalled" and relaxed.steps == 30
    fixed = drag(tiny_G, tiny_ws, **FAR, mask=mask, config=DragConfig(**stuck, mask_relax_steps=0), device=CPU)
    assert fixed.final_lambda_mask == 20.0 and fixed.status == "stalled" and fixed.steps == 20
    no_mask = drag(tiny_G, tiny_ws, **FAR, config=DragConfig(**stuck, mask_relax_steps=5), device=CPU)
    assert no_mask.final_lambda_mask is None and no_mask.steps == 20  # nothing to relax: the stall test as usual
