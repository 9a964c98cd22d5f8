"""Which inversion an edit runs: presets by model size and device, step budgets, the drag's mask."""
from __future__ import annotations

import types

import numpy as np
import pytest
import torch

from pipeline.edit.edit_config import EditConfig, inversion_configs, pti_wanted
from pipeline.edit.edit_masks import drag_mask as _drag_mask, paste_mask as _paste_mask
from pipeline.edit.inversion_presets import preset_for, preset_plan, scale_steps

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def fake_generator(resolution: int, num_ws: int):
    return types.SimpleNamespace(img_resolution=resolution, num_ws=num_ws)


def test_presets_by_model_size_and_device():
    big, demo = fake_generator(1024, 23), fake_generator(64, 1)
    assert preset_for(demo, CPU) == "small" and preset_for(demo, CUDA) == "small"
    assert preset_for(big, CPU) == "cpu" and preset_for(big, CUDA) == "gpu"
    assert preset_for(big, CPU, "gpu") == "gpu"
    stages, pti = preset_plan("cpu", CPU, big)
    assert [s.space for s in stages] == ["w", "w+"] and not any(s.optimize_noise for s in stages)
    assert stages[0].coarse_fraction > 0 and pti.relative_lr and pti.num_steps <= 120
    gpu_stages, gpu_pti = preset_plan("gpu", CUDA, big)
    assert gpu_stages[0].num_steps == 450 and gpu_pti.num_steps == 350  # the PTI paper's schedule
    (small,), small_pti = preset_plan("small", CPU, demo)
    assert small.num_steps == 250 and not small_pti.relative_lr  # the demo's measured settings, unchanged


def test_step_budgets_keep_the_preset_proportions():
    stages, _ = preset_plan("cpu", CPU, fake_generator(1024, 23))
    for total in (1, 2, 7, 80, 333):
        scaled = scale_steps(stages, total)
        assert sum(s.num_steps for s in scaled) == total and all(s.num_steps >= 1 for s in scaled)
    assert [s.space for s in scale_steps(stages, 1)] == ["w+"]
    assert [s.num_steps for s in scale_steps(stages, 160)] == [100, 60]


def test_edit_config_resolves_backbone_seed_and_overrides(monkeypatch):
    monkeypatch.setattr("pipeline.edit.edit_config.resolve_backbone", lambda name: "lpips-vgg")
    big = fake_generator(1024, 23)
    stages, pti = inversion_configs(EditConfig(seed=7, invert_steps=10, pti_steps=3), big, CPU)
    assert sum(s.num_steps for s in stages) == 10 and pti.num_steps == 3
    assert all(s.seed == 7 and s.backbone == "lpips-vgg" for s in stages) and pti.seed == 7
    assert pti_wanted(EditConfig(), big) and not pti_wanted(EditConfig(), fake_generator(64, 1))
    _, none = inversion_configs(EditConfig(use_pti=False), big, CPU)
    assert none is None
    with pytest.raises(ValueError, match="preset"):
        EditConfig(preset="fast")


def test_drag_mask_grows_past_the_users_edge_and_paste_back_covers_it(aligned512):
    aligned = aligned512["portrait_a.jpg"]
    mask = np.zeros((512, 512), np.float32)
    mask[300:360, 200:320] = 1
    drag_region = _drag_mask(mask, aligned, EditConfig())
    paste = _paste_mask(mask, aligned, EditConfig())
    assert drag_region[mask > 0].min() == 1 and drag_region.sum() > 1.2 * mask.sum()
    assert set(np.unique(drag_region)) <= {0.0, 1.0}
    assert paste[drag_region > 0].min() > 0.5  # what the drag may change, paste-back carries
    assert _drag_mask(mask, aligned, EditConfig(drag_mask_grow=0.0)).sum() == mask.sum()
