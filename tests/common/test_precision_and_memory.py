"""bf16 autocast per optimisation step, and glibc's freed-memory setting."""
from __future__ import annotations

import contextlib

import torch

from pipeline.common.cpu_memory import keep_freed_memory
from pipeline.common.precision import autocast_bf16, bf16_native

CPU = torch.device("cpu")


def test_autocast_is_a_no_op_when_disabled_and_bf16_when_enabled():
    assert isinstance(autocast_bf16(CPU, False), contextlib.nullcontext)
    x, w = torch.randn(1, 4, 8, 8), torch.randn(4, 4, 3, 3)
    with autocast_bf16(CPU, True):
        assert torch.nn.functional.conv2d(x, w).dtype == torch.bfloat16
    with autocast_bf16(CPU, False):
        assert torch.nn.functional.conv2d(x, w).dtype == torch.float32
    assert isinstance(bf16_native(CPU), bool) and bf16_native(torch.device("meta")) is False


def test_one_region_per_step_lets_the_forward_see_every_update():
    """The trap precision.py documents: autocast caches a parameter's bf16 copy for the whole region."""
    def run(per_step: bool) -> float:
        torch.manual_seed(0)
        lin = torch.nn.Linear(8, 8)
        x, y = torch.randn(16, 8), torch.randn(16, 8)
        opt = torch.optim.Adam(lin.parameters(), lr=0.05)
        whole = autocast_bf16(CPU, not per_step)
        with whole:
            for _ in range(40):
                with autocast_bf16(CPU, per_step):
                    loss = (lin(x).float() - y).square().mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
        with torch.no_grad():
            return float((lin(x) - y).square().mean())  # the float32 weights, as rendered afterwards

    # Per step: the float32 weights fit. One region for the loop: the forward kept the first
    # step's bf16 weights while Adam moved the float32 ones blindly.
    assert run(per_step=True) < 0.7 * run(per_step=False)


def test_keep_freed_memory_is_idempotent():
    first = keep_freed_memory()
    assert keep_freed_memory() is first and isinstance(first, bool)
