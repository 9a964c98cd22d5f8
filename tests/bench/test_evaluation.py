"""The evaluation protocols' pieces (bench/evaluation): distances, point choices, flow sampling, tables."""
from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch

from bench.evaluation.drag_options import (
    ALL_WS, DragVariant, ablation_variants, add_drag_arguments, build_config, parse_assignments, variant_from_args,
)
from bench.evaluation.optical_flow import dense_flow, sample_flow_points
from bench.evaluation.landmark_points import choose_landmarks, drag_points, mean_distance, to_512
from bench.evaluation.landmark_protocol import LandmarkEdit, LandmarkProtocol, find_face_pairs, summarize, verdicts
from bench.evaluation.latents import perturb_ws
from bench.evaluation.paired_protocol import PairedProtocol, image_mse, run_paired_edits
from bench.evaluation.paired_protocol import summarize as summarize_paired
from bench.evaluation.tables import ablation_table, format_table, landmark_details, landmark_table, paired_table, verdict_lines
from pipeline.drag import DragConfig, resolve_settings
from pipeline.gan import build_generator

CPU = torch.device("cpu")


def _faces(seed: int = 0, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    return rng.uniform(-2, size + 1, (68, 2)), rng.uniform(-2, size + 1, (68, 2))


# --- distances ---

def test_mean_distance_is_the_mean_of_euclidean_distances():
    points = np.array([[0.0, 0.0], [1.0, 1.0]])
    targets = np.array([[3.0, 4.0], [1.0, 1.0]])
    assert mean_distance(points, targets) == pytest.approx(2.5)
    with pytest.raises(ValueError):
        mean_distance(points, targets[:1])


def test_to_512_scales_with_the_resolution():
    assert to_512(1.0, 64) == pytest.approx(8.0)
    assert to_512(3.0, 1024) == pytest.approx(1.5)
    assert to_512(2.0, 512) == pytest.approx(2.0)


# --- landmark choice and drag inputs ---

def test_choose_landmarks_is_seeded_inside_and_one_per_pixel():
    a, b = _faces()
    first = choose_landmarks(a, b, 5, image_size=64, seed=7, pair_index=3)
    assert first == choose_landmarks(a, b, 5, image_size=64, seed=7, pair_index=3)
    others = {tuple(choose_landmarks(a, b, 5, image_size=64, seed=7, pair_index=k)) for k in range(10)}
    assert len(others) > 1  # the choice changes from pair to pair
    assert len(first) == 5 and len(set(first)) == 5
    for i in first:
        assert (0 <= a[i]).all() and (a[i] <= 63).all() and (0 <= b[i]).all() and (b[i] <= 63).all()
    pixels = {tuple(np.rint(a[i]).astype(int)) for i in first}
    assert len(pixels) == 5


def test_choose_landmarks_skips_handles_sharing_a_pixel():
    a = np.full((68, 2), 10.0)  # every handle on one pixel ...
    a[5] = (30.0, 30.0)  # ... but one
    b = np.full((68, 2), 20.0)
    chosen = choose_landmarks(a, b, 5, image_size=64, seed=0, pair_index=0)
    assert len(chosen) == 2 and 5 in chosen


def test_choose_all_68_returns_every_landmark():
    a, b = _faces()
    assert choose_landmarks(a, b, 68, image_size=64, seed=0, pair_index=0) == list(range(68))


def test_drag_points_clips_into_the_image_and_keeps_the_lowest_index_per_pixel():
    grid = np.stack(np.meshgrid(np.arange(10, 27, 2.0), np.arange(10, 27, 2.0)), -1).reshape(-1, 2)
    a = grid[:68].copy()  # distinct pixels
    b = a + 3.0
    a[0], b[0] = (-4.0, 70.0), (66.0, -1.0)  # off the image
    a[2] = a[1] + (0.0, 0.3)  # rounds to landmark 1's pixel
    handles, targets, dragged = drag_points(a, b, list(range(68)), image_size=64)
    assert handles[0] == (0.0, 63.0) and targets[0] == (63.0, 0.0)
    assert dragged[:3] == [0, 1, 3] and len(dragged) == 67
    assert targets[1] == tuple(b[1])
    pixels = [tuple(np.rint(h).astype(int)) for h in handles]
    assert len(pixels) == len(set(pixels)) == len(dragged)
    assert all(0 <= v <= 63 for p in handles + targets for v in p)


# --- flow ---

def test_sample_flow_points_follows_the_flow_inside_the_margin():
    forward = np.zeros((32, 32, 2), np.float32)
    forward[..., 0], forward[..., 1] = 2.0, -1.0
    backward = -forward
    handles, targets = sample_flow_points(forward, backward, 16, seed=3, margin=4, fb_tolerance=0.5)
    assert len(handles) == 16 and len(set(handles)) == 16
    for (hx, hy), (tx, ty) in zip(handles, targets):
        assert (tx - hx, ty - hy) == pytest.approx((2.0, -1.0))
        assert 4 <= min(hx, hy, tx, ty) and max(hx, hy, tx, ty) <= 27
    again = sample_flow_points(forward, backward, 16, seed=3, margin=4, fb_tolerance=0.5)
    assert again == (handles, targets)


def test_sample_flow_points_avoids_untrusted_flow():
    forward = np.zeros((32, 32, 2), np.float32)
    forward[..., 0] = 1.0
    backward = -forward
    backward[:, 16:, 0] = 3.0  # the round trip fails wherever a target lands in the right half
    handles, _ = sample_flow_points(forward, backward, 500, seed=0, margin=1, fb_tolerance=0.5)
    assert handles and all(x + 1.0 < 15.5 for x, _ in handles)


def test_dense_flow_recovers_a_shift():
    ys, xs = np.mgrid[0:64, 0:64].astype(np.float64)

    def scene(shift: float) -> np.ndarray:  # a blob on a texture, everything moved right by `shift` px
        x = xs - shift
        value = 160 * np.exp(-((x - 30) ** 2 + (ys - 32) ** 2) / (2 * 6.0**2)) + 60 + 40 * np.sin(x / 3) * np.cos(ys / 4)
        return np.clip(value, 0, 255).astype(np.uint8)[..., None].repeat(3, axis=2)

    for method in ("farneback", "dis"):
        flow = dense_flow(scene(0), scene(2), method=method)
        assert flow.shape == (64, 64, 2)
        centre = flow[20:44, 20:44].reshape(-1, 2).mean(0)
        assert centre[0] == pytest.approx(2.0, abs=0.5) and abs(centre[1]) < 0.5, method


# --- latents, images, configs ---

def test_perturb_ws_moves_only_the_leading_entries():
    ws, other = torch.zeros(1, 8, 4), torch.ones(1, 8, 4)
    out = perturb_ws(ws, other, strength=0.25, num_entries=6)
    assert torch.allclose(out[:, :6], torch.full((1, 6, 4), 0.25))
    assert torch.equal(out[:, 6:], ws[:, 6:])
    assert torch.equal(perturb_ws(ws, other, strength=1.0, num_entries=20), other)


def test_image_mse_is_measured_on_the_unit_scale():
    a, b = -torch.ones(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
    assert image_mse(a, b) == pytest.approx(1.0)
    assert image_mse(a, a) == 0.0


def test_build_config_applies_switches_and_refuses_unknown_fields(tiny_G):
    ap = argparse.ArgumentParser()
    add_drag_arguments(ap)
    args = ap.parse_args(["--tracking-norm", "l1", "--optimize-ws", "all", "--r1", "6", "--set", "max_steps=7"])
    config = build_config(tiny_G, variant_from_args(args))
    assert (config.tracking_norm, config.num_optimized_ws, config.r1_at_512, config.max_steps) == ("l1", tiny_G.num_ws, 6.0, 7)
    with pytest.raises(ValueError, match="no field"):
        build_config(tiny_G, DragVariant(name="x", overrides={"not_a_field": 1}))
    with pytest.raises(ValueError):
        parse_assignments(["max_steps"])
    assert parse_assignments(["feature_block=b16", "lr=0.01"]) == {"feature_block": "b16", "lr": 0.01}


def test_ablation_variants_change_one_thing_each(tiny_G):
    base = DragConfig()
    variants = ablation_variants(tiny_G, base)
    assert variants[0].name == "default" and variants[0].overrides == {}
    configs = [build_config(tiny_G, v, base) for v in variants]
    for v, c in zip(variants[1:], configs[1:]):
        assert len(v.overrides) == 1 and c != base, v.name
    assert any(v.overrides.get("num_optimized_ws") == ALL_WS for v in variants)
    assert any(v.overrides.get("tracking_norm") == "l1" for v in variants)
    assert not any(v.name == "latent prior" for v in variants)  # StyleGAN2: W+ as DragGAN's


def test_gaussian_latent_model_gets_the_prior_variant():
    torch.manual_seed(0)
    G = build_generator("dcgan", {"z_dim": 16, "ngf": 8})
    (variant,) = [v for v in ablation_variants(G) if v.name == "latent prior"]
    settings = resolve_settings(build_config(G, variant), G, 1)
    assert settings.latent_shell and settings.max_latent_change > 0
    assert not resolve_settings(DragConfig(), G, 1).latent_shell


# --- summaries and tables ---

def _edit(n: int, no_edit: float, md: float | None, steps: int = 10) -> LandmarkEdit:
    return LandmarkEdit(pair=0, seeds=(0, 1), num_points=n, landmarks=list(range(n)), dragged=list(range(n)),
                        steps=steps, status="converged", seconds=1.0, seconds_per_step=0.1, tracked_md_px=0.9,
                        no_edit_md_px=no_edit,
                        no_edit_identity=0.7, md_px=md, identity_change=None if md is None else 0.2)


def test_summarize_leaves_lost_faces_out_of_the_compared_mds():
    edits = [_edit(1, 2.0, 0.5), _edit(1, 4.0, None), _edit(5, 2.0, 1.0)]
    s = summarize(edits, image_size=64)
    assert s[1]["face_lost"] == 1 and s[1]["face_lost_share"] == 0.5
    assert s[1]["no_edit_md_px"] == pytest.approx(3.0)  # every edit
    assert s[1]["ratio"] == pytest.approx(0.25)  # 0.5 against the kept edit's 2.0
    assert s[1]["md_512"] == pytest.approx(4.0)
    checks = {v["target"].split(":")[0]: v for v in verdicts(s)}
    assert checks["1 point"]["met"] and not checks["5 points"]["met"]
    assert not checks["face lost after the drag in under 10 % of edits"]["met"]  # 1 of 3


def test_tables_show_the_paper_rows_and_ours_scaled_to_512():
    s = summarize([_edit(1, 2.0, 0.5), _edit(68, 2.0, 1.0)], image_size=64)
    text = landmark_table(s, model="demo", image_size=64, device="cpu")
    assert "12.93" in text and "4.73" in text  # the paper's no-edit and DragGAN rows
    assert "16.00 (2.00)" in text and "4.00 (0.50)" in text and "8.00 (1.00)" in text
    lines = text.splitlines()[1:]
    assert len({len(line) for line in lines}) == 1  # columns aligned
    assert "0.25" in landmark_details(s)
    assert "[met]" in verdict_lines(verdicts(s))
    table = format_table(["a", "bb"], [["xxx", 1]])
    assert table.splitlines() == ["| a   | bb |", "|-----|----|", "| xxx | 1  |"]
    paired_summary = {"mse": 0.01, "perceptual": 0.05, "no_edit_mse": 0.03, "no_edit_perceptual": 0.07}
    rows = [{"variant": "default", "settings": "l3", "landmark": s, "paired": paired_summary}]
    ablation = ablation_table(rows, image_size=64, point_counts=(1, 68), paired=True).splitlines()
    assert "4.00 (0.25)" in ablation[2] and "8.00 (0.50)" in ablation[2] and "| 1.00 " in ablation[2]
    assert ablation[3].startswith("| no edit") and "16.00 (1)" in ablation[3] and "3.00" in ablation[3]
    paired = paired_table({"mse": 0.004, "perceptual": 0.2, "no_edit_mse": 0.01, "no_edit_perceptual": 0.3,
                           "steps_mean": 5.0, "seconds_per_edit": 1.0}, model="demo", backbone="lpips-alex")
    assert "0.40" in paired and "2.00" in paired and "LPIPS-Alex x10" in paired and "NOT comparable" not in paired
    other = paired_table({"mse": 0.004, "perceptual": 0.2, "no_edit_mse": 0.01, "no_edit_perceptual": 0.3,
                          "steps_mean": 5.0, "seconds_per_edit": 1.0}, model="demo", backbone="some-trunk")
    assert "NOT comparable" in other


# --- the paired protocol end to end, on a tiny random generator (plumbing, not quality) ---

def test_paired_protocol_runs_through_the_drag(tiny_G):
    protocol = PairedProtocol(num_pairs=1, num_points=4, perturb_strength=0.5, margin_at_512=32, fb_tolerance_at_512=64)
    edits, settings = run_paired_edits(tiny_G, protocol, config=DragConfig(max_steps=2), device=CPU, progress=False)
    assert len(edits) == 1 and 1 <= edits[0].num_points <= 4
    assert edits[0].steps <= 2 and settings["max_steps"] == 2
    assert edits[0].no_edit_mse > 0 and edits[0].perceptual is None
    s = summarize_paired(edits)
    assert s["edits"] == 1 and s["mse"] == pytest.approx(edits[0].mse)


# --- faces: our mapping against dlib run directly (one demo-model sample with a face) ---

def test_measure_faces_matches_dlib_on_the_upscaled_image():
    import dlib
    from PIL import Image

    from bench.evaluation.faces import _face_recognizer, descriptor_distance, measure_faces
    from bench.evaluation.latents import render, seed_ws
    from bench.evaluation.sample_faces import UPSCALE
    from pipeline.align import find_predictor
    from pipeline.gan.loading import load_generator

    G = load_generator("demo-face-64", device=CPU)
    images = render(G, torch.cat([seed_ws(G, s, truncation_psi=0.7, device=CPU) for s in (0, 1)]), noise_mode="const")
    faces = measure_faces(images, descriptors=True)
    assert faces[0] is not None and faces[1] is not None, "demo seeds 0 and 1 are detected faces"
    big = np.asarray(Image.fromarray(images[0]).resize((64 * UPSCALE, 64 * UPSCALE), Image.BICUBIC))
    rect = max(dlib.get_frontal_face_detector()(big, 1), key=lambda r: r.area())
    shape = dlib.shape_predictor(str(find_predictor()))(big, rect)
    direct = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
    # dlib px on the 4x image -> model px with pixel centres at integers: (p + 0.5) / 4 - 0.5
    np.testing.assert_allclose(faces[0].landmarks, (direct + 0.5) / UPSCALE - 0.5, atol=1e-9)
    expected = np.array(_face_recognizer().compute_face_descriptor(big, shape))
    np.testing.assert_allclose(faces[0].descriptor, expected, atol=1e-6)
    assert descriptor_distance(faces[0].descriptor, faces[0].descriptor) == 0.0
    assert descriptor_distance(faces[0].descriptor, faces[1].descriptor) > 0.1


def test_low_and_full_resolution_paths_agree_on_one_face():
    from pathlib import Path

    from PIL import Image

    from bench.evaluation.faces import SAME_PERSON_DISTANCE, descriptor_distance, measure_faces

    photo = Image.open(Path(__file__).parents[1] / "data" / "photos" / "portrait_a.jpg").convert("RGB")
    full = np.asarray(photo.resize((512, 512), Image.LANCZOS))[None]
    small = np.asarray(photo.resize((128, 128), Image.LANCZOS))[None]
    big_face, small_face = measure_faces(full, descriptors=True)[0], measure_faces(small, descriptors=True)[0]
    assert big_face is not None and small_face is not None
    # Same pixel convention on both paths: the scaled landmarks agree to about dlib's jitter (median 1 px
    # at 512 here; a half-pixel slip at 128 px would put it at 2.5 px).
    offsets = np.linalg.norm(big_face.landmarks - ((small_face.landmarks + 0.5) * 4 - 0.5), axis=1)
    assert np.median(offsets) < 1.8
    assert descriptor_distance(big_face.descriptor, small_face.descriptor) < SAME_PERSON_DISTANCE


def test_find_face_pairs_skips_pairs_without_two_faces():
    from pipeline.gan.loading import load_generator

    G = load_generator("demo-face-64", device=CPU)
    # Demo seed 3 has no face dlib can find: candidate (2, 3) is skipped, (4, 5) is taken.
    pairs, tried = find_face_pairs(G, LandmarkProtocol(num_pairs=1, seed=2), device=CPU, progress=False)
    assert tried == 2 and len(pairs) == 1
    assert pairs[0].seeds == (4, 5) and pairs[0].index == 1
    assert pairs[0].face_a.landmarks.shape == (68, 2) and pairs[0].face_b.descriptor.shape == (128,)
    assert pairs[0].ws_a.shape == (1, G.num_ws, G.w_dim)
