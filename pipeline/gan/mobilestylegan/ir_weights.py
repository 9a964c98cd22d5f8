"""Map the constants of the `random-face` IR pair onto MobileStyleGANGenerator's state dict.

Walks the graphs by layer type in forward order (the ONNX node numbers in the names) and checks
every structural fact it relies on: counts of each layer kind, shapes against our module, the
activation slopes and gains, the style gains 1/sqrt(fan_in), and that every IDWT kernel is a
Haar tap. Any float constant left unread means the export holds a weight our network lacks: refused.
"""
from __future__ import annotations

import numpy as np
import torch

from .mobilestylegan_config import MobileStyleGANConfig
from .openvino_ir import IRGraph, IRLayer
from .wavelets import HAAR

_TOL = 1e-6


def mapping_state(graph: IRGraph, cfg: MobileStyleGANConfig) -> dict[str, np.ndarray]:
    """`mapping.fc{i}.weight/bias` from the mapping IR (input `var` -> output `style`)."""
    matmuls = graph.of_type("MatMul")
    if len(matmuls) != cfg.mapping_layers:
        raise graph.error(f"{len(matmuls)} MatMul layers, expected {cfg.mapping_layers}")
    state = {}
    for i, mm in enumerate(matmuls):
        state[f"mapping.fc{i}.weight"] = graph.const_input(mm, 1)  # [out, in]: transpose_b
        add = graph.only_consumer(mm, "Add")
        state[f"mapping.fc{i}.bias"] = graph.other_const(add, mm).reshape(-1)
        act = graph.only_consumer(add, "PReLU")
        _expect(graph, act.name, graph.const_input(act, 1), cfg.lrelu_slope)
        gain = graph.only_consumer(act, "Multiply")
        _expect(graph, gain.name, graph.other_const(gain, act), cfg.mapping_gain)
    _check_pixel_norm(graph, cfg)
    _check_all_read(graph)
    return state


def synthesis_state(graph: IRGraph, cfg: MobileStyleGANConfig) -> dict[str, np.ndarray]:
    """`synthesis.*` from the synthesis IR (input `style` -> output `img`); noise split into strength and map."""
    res = cfg.hidden_resolutions
    affines = _affine_names(res)
    matmuls = graph.of_type("MatMul")
    convs = graph.of_type("Convolution")
    depthwise = graph.of_type("GroupConvolution")
    if (len(matmuls), len(convs), len(depthwise)) != (cfg.num_ws, 2 * len(res) - 1 + 1, 2 * (len(res) - 1)):
        raise graph.error(f"{len(matmuls)} MatMul / {len(convs)} Convolution / {len(depthwise)} GroupConvolution "
                          f"layers, expected {cfg.num_ws} / {2 * len(res)} / {2 * (len(res) - 1)}")
    state: dict[str, np.ndarray] = {}
    for name, mm in zip(affines, matmuls):
        state[f"synthesis.{name}.affine.weight"] = graph.const_input(mm, 1)
        add = graph.only_consumer(mm, "Add")
        state[f"synthesis.{name}.affine.bias"] = graph.other_const(add, mm).reshape(-1)
        _check_style_gain(graph, add, name, cfg)
    conv_names = ["b4.conv1"] + [f"b{r}.conv{k}" for r in res[1:] for k in (1, 2)]
    for name, conv in zip(conv_names, convs[:-1]):
        key = "weight" if name == "b4.conv1" else "weight_pw"
        state[f"synthesis.{name}.{key}"] = graph.const_input(conv, 1)
        state.update(_noise_bias_act(graph, conv, name, cfg))
    for name, dw in zip(conv_names[1:], depthwise):
        kernel = graph.const_input(dw, 1)  # [C, 1, 1, 3, 3]: groups, out/group, in/group, kh, kw
        state[f"synthesis.{name}.weight_dw"] = kernel.reshape(kernel.shape[0], 1, *kernel.shape[-2:])
    head = convs[-1]
    state["synthesis.head.weight"] = graph.const_input(head, 1)
    state["synthesis.head.bias"] = graph.other_const(graph.only_consumer(head, "Add"), head).reshape(-1)
    state["synthesis.const"] = _constant_input(graph)
    _check_haar(graph, len(res))
    _check_all_read(graph)
    return state


def to_state_dict(arrays: dict[str, np.ndarray], expected: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """float32 tensors of `arrays` checked name by name and shape by shape against `expected`."""
    missing = sorted(set(expected) - set(arrays))
    extra = sorted(set(arrays) - set(expected))
    if missing or extra:
        raise ValueError(f"IR constants do not fit the network: missing {missing[:5]}, unexpected {extra[:5]}")
    out = {}
    for name, ref in expected.items():
        value = torch.from_numpy(np.array(arrays[name], dtype=np.float32, order="C"))
        if tuple(value.shape) != tuple(ref.shape):
            raise ValueError(f"IR constant for {name} is {list(value.shape)}, the network's {list(ref.shape)}")
        out[name] = value
    return out


def _affine_names(res: list[int]) -> list[str]:
    """The 23 styled layers in W+ order (the export's Gemm order)."""
    names = ["b4.conv1"]
    for r in res[1:]:
        names += [f"b{r}.up", f"b{r}.conv1", f"b{r}.conv2"]
    return names + ["head"]


def _check_style_gain(graph: IRGraph, affine_add: IRLayer, name: str, cfg: MobileStyleGANConfig) -> None:
    """conv/head styles are scaled by 1/sqrt(fan_in) after the reshape; the IDWT's style is not."""
    reshape = graph.only_consumer(affine_add, "Reshape")
    fan_in = reshape.output_shapes[0][1] * (1 if name == "head" else 9)
    gains = [c for c in graph.consumers(reshape) if c.type == "Multiply" and graph.const(c.inputs[1]) is not None]
    if name.endswith(".up"):
        if gains:
            raise graph.error(f"the IDWT style {name} is scaled, expected no gain")
        return
    if len(gains) != 1:
        raise graph.error(f"style of {name} has {len(gains)} gain layers, expected 1")
    _expect(graph, gains[0].name, graph.const_input(gains[0], 1), fan_in**-0.5)


def _noise_bias_act(graph: IRGraph, conv: IRLayer, name: str, cfg: MobileStyleGANConfig) -> dict[str, np.ndarray]:
    """conv -> Add(noise [1,1,R,R]) -> Add(bias [1,C,1,1]) -> PReLU(slope)."""
    add_noise = graph.only_consumer(conv, "Add")
    noise = graph.other_const(add_noise, conv)
    add_bias = graph.only_consumer(add_noise, "Add")
    bias = graph.other_const(add_bias, add_noise)
    act = graph.only_consumer(add_bias, "PReLU")
    _expect(graph, act.name, graph.const_input(act, 1), cfg.lrelu_slope)
    if noise.ndim != 4 or noise.shape[:2] != (1, 1):
        raise graph.error(f"noise of {name} is {list(noise.shape)}, expected [1, 1, R, R]")
    baked = noise[0, 0].astype(np.float64)
    strength = float(np.sqrt(np.mean(baked**2)))
    unit = baked / strength if strength > 0 else np.zeros_like(baked)
    return {f"synthesis.{name}.bias": bias.reshape(-1), f"synthesis.{name}.noise.noise_strength": np.array(strength, dtype=np.float32),
            f"synthesis.{name}.noise.noise_const": unit.astype(np.float32)}


def _constant_input(graph: IRGraph) -> np.ndarray:
    found = [graph.const(l.inputs[0]) for l in graph.of_type("Broadcast") if graph.const(l.inputs[0]) is not None]
    found = [v for v in found if v.ndim == 4]
    if len(found) != 1:
        raise graph.error(f"{len(found)} constant input maps, expected 1")
    return found[0]


def _check_haar(graph: IRGraph, num_maps: int) -> None:
    """Each IDWT is six transposed convs: rows h0, h1, h0, h1, then columns h0, h1 (forward order)."""
    layers = graph.of_type("GroupConvolutionBackpropData")
    if len(layers) != 6 * num_maps:
        raise graph.error(f"{len(layers)} transposed convolutions, expected {6 * num_maps} (6 per IDWT)")
    h0, h1 = np.array([HAAR, HAAR]), np.array([HAAR, -HAAR])
    for i, layer in enumerate(layers):
        taps = graph.const_input(layer, 1)  # [C, 1, 1, 2, 1] rows or [C, 1, 1, 1, 2] columns
        expected = (h0, h1, h0, h1, h0, h1)[i % 6]
        if taps.size != 2 * taps.shape[0] or np.abs(taps.reshape(-1, 2) - expected).max() > _TOL:
            raise graph.error(f"{layer.name} is not the Haar tap the IDWT needs")


def _check_pixel_norm(graph: IRGraph, cfg: MobileStyleGANConfig) -> None:
    """The only other float constants: x * 1 / (mean(x^2) + eps)^0.5 spelled with Power -1 (exponents 2, 0.5, -1)."""
    ids = [l.id for l in graph.layers.values() if l.type == "Const" and l.attrs.get("element_type") == "f32"
           and l.id not in graph.read_ids]
    values = sorted(float(v.reshape(-1)[0]) for v in (graph.const(i) for i in ids) if v.size == 1)
    expected = sorted([2.0, 0.5, -1.0, 1.0, cfg.pixel_norm_eps])
    if len(values) != len(ids) or len(values) != len(expected) or not np.allclose(values, expected, rtol=1e-6, atol=1e-12):
        raise graph.error(f"the input normalisation's constants are {values}, expected {expected}")


def _check_all_read(graph: IRGraph) -> None:
    unread = graph.unread_float_constants()
    if unread:
        raise graph.error(f"{len(unread)} float constants the network does not use ({', '.join(unread[:4])})")


def _expect(graph: IRGraph, where: str, value: np.ndarray, expected: float, rel: float = 1e-6) -> None:
    if value.size != 1 or abs(float(value.reshape(-1)[0]) - expected) > rel * max(1.0, abs(expected)) + 1e-12:
        raise graph.error(f"{where} holds {value.reshape(-1)[:3]}, expected {expected:g}")
