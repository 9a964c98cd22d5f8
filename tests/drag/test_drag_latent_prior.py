"""The latent prior of Gaussian-latent generators: on the start sphere, inside the trust region, off for StyleGAN2."""
import torch

from pipeline.drag import DragConfig, drag, resolve_settings
from pipeline.drag.drag_config import LATENT_PRIOR
from pipeline.drag.latent_prior import is_gaussian_latent, project_latent
from pipeline.gan import build_generator, seeded_z

CPU = torch.device("cpu")


def test_projection_keeps_the_norm_and_caps_the_change():
    start = torch.randn(1, 2, 50, generator=torch.Generator().manual_seed(0))
    moved = start + 3.0 * torch.randn(1, 2, 50, generator=torch.Generator().manual_seed(1))
    out = moved.clone()
    project_latent(out, start, shell=True, max_change=0.0)
    assert torch.allclose(out.norm(dim=-1), start.norm(dim=-1), rtol=1e-5)
    out = moved.clone()
    project_latent(out, start, shell=False, max_change=0.25)
    change = (out - start).norm(dim=-1) / start.norm(dim=-1)
    assert torch.allclose(change, torch.full_like(change, 0.25), rtol=1e-5)
    # direction of the change kept; a change inside the region is left alone
    assert torch.allclose(torch.nn.functional.cosine_similarity(out - start, moved - start, dim=-1), torch.ones(1, 2))
    small = start + 0.01 * (moved - start)
    out = small.clone()
    project_latent(out, start, shell=False, max_change=0.25)
    assert torch.equal(out, small)


def test_prior_is_off_by_default_and_detects_gaussian_latents(tiny_G):
    torch.manual_seed(0)
    G = build_generator("dcgan", {"z_dim": 16, "ngf": 8}).eval()
    assert is_gaussian_latent(G) and not is_gaussian_latent(tiny_G)
    for model in (G, tiny_G):
        s = resolve_settings(DragConfig(), model, 1)
        assert not s.latent_shell and s.max_latent_change == 0
    s = resolve_settings(DragConfig(**LATENT_PRIOR), G, 1)
    assert s.latent_shell and s.max_latent_change == LATENT_PRIOR["max_latent_change"] > 0


def test_dcgan_drag_stays_on_the_shell_and_in_the_region():
    torch.manual_seed(0)
    G = build_generator("dcgan", {"z_dim": 16, "ngf": 8}).eval()
    ws = G.mapping(seeded_z(0, 16), truncation_psi=0.7)
    cfg = DragConfig(max_steps=6, lr=0.5, latent_shell=True, max_latent_change=0.1)
    r = drag(G, ws, [(20.0, 20.0)], [(40.0, 20.0)], config=cfg, device=CPU)
    assert r.steps == 6 and not torch.equal(r.ws, ws)
    assert abs(r.ws.norm().item() - ws.norm().item()) < 1e-4 * ws.norm().item()
    assert (r.ws - ws).norm().item() <= 0.1 * ws.norm().item() * (1 + 1e-4)
    # the same drag without the prior leaves both (lr 0.5 x 6 steps moves z far)
    free = drag(G, ws, [(20.0, 20.0)], [(40.0, 20.0)], config=DragConfig(max_steps=6, lr=0.5, latent_shell=False,
                                                                          max_latent_change=0.0), device=CPU)
    assert (free.ws - ws).norm().item() > 0.1 * ws.norm().item()


def test_shell_and_cap_together_are_exact():
    start = torch.randn(1, 1, 100, generator=torch.Generator().manual_seed(2))
    moved = start + 2.0 * torch.randn(1, 1, 100, generator=torch.Generator().manual_seed(3))
    out = moved.clone()
    project_latent(out, start, shell=True, max_change=0.4)
    assert torch.allclose(out.norm(), start.norm(), rtol=1e-5)
    assert abs((out - start).norm().item() - 0.4 * start.norm().item()) < 1e-4 * start.norm().item()
