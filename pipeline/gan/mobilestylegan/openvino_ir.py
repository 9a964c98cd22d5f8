"""Read an OpenVINO IR v10 model (XML graph + raw .bin constants) as data, never as code.

An IR is an XML list of layers (id, name, type, attributes, ports) and edges, plus a .bin file
that `Const` layers index by byte offset and size (little-endian arrays). Nothing here runs the
graph: the converter walks it to find the constants it needs. DOCTYPE/ENTITY declarations are
refused before parsing (entity expansion is the only way an XML file can do more than describe).
"""
from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...common import UserError

MAX_XML_BYTES = 16 * 2**20  # the MobileStyleGAN graphs are 60 kB and 425 kB
MAX_BIN_BYTES = 512 * 2**20  # and 8 MB and 32 MB
_DTYPES = {"f32": np.float32, "f16": np.float16, "i64": np.int64, "i32": np.int32, "u8": np.uint8, "i8": np.int8}
_INDEX = re.compile(r"_(\d+)(?:/|$)")


@dataclass(frozen=True)
class IRLayer:
    id: str
    name: str
    type: str
    attrs: dict[str, str]
    inputs: tuple[str, ...]  # ids of the layers feeding input ports 0, 1, ... (one output port each here)
    output_shapes: tuple[tuple[int, ...], ...]

    @property
    def onnx_index(self) -> int:
        """The ONNX node number in the name ('Gemm_743' -> 743): the exporter numbers nodes in forward order."""
        match = _INDEX.search(self.name)
        return int(match.group(1)) if match else -1


class IRGraph:
    """Layers by id, their consumers, and the constants (read on demand; reads are recorded)."""

    def __init__(self, layers: dict[str, IRLayer], blob: bytes, path: Path) -> None:
        self.layers = layers
        self.path = path
        self._blob = blob
        self.read_ids: set[str] = set()
        self._consumers: dict[str, list[IRLayer]] = {}
        for layer in layers.values():
            for src in layer.inputs:
                self._consumers.setdefault(src, []).append(layer)

    def of_type(self, kind: str) -> list[IRLayer]:
        """Layers of one type in forward order."""
        return sorted((l for l in self.layers.values() if l.type == kind), key=lambda l: l.onnx_index)

    def consumers(self, layer: IRLayer) -> list[IRLayer]:
        return self._consumers.get(layer.id, [])

    def only_consumer(self, layer: IRLayer, kind: str) -> IRLayer:
        found = [c for c in self.consumers(layer) if c.type == kind]
        if len(found) != 1:
            raise self.error(f"{layer.name} feeds {len(found)} {kind} layers, expected 1")
        return found[0]

    def const(self, layer_id: str) -> np.ndarray | None:
        """The constant behind a layer id (through Reshape/Squeeze/Unsqueeze of a Const), else None."""
        layer = self.layers[layer_id]
        if layer.type in ("Reshape", "Squeeze", "Unsqueeze"):
            inner = self.const(layer.inputs[0])
            return None if inner is None else inner.reshape(layer.output_shapes[0])
        if layer.type != "Const":
            return None
        self.read_ids.add(layer_id)
        dtype = _DTYPES.get(layer.attrs.get("element_type", ""))
        if dtype is None:
            raise self.error(f"constant {layer.name} has unsupported element type {layer.attrs.get('element_type')}")
        offset, size = int(layer.attrs["offset"]), int(layer.attrs["size"])
        if offset < 0 or size < 0 or offset + size > len(self._blob):
            raise self.error(f"constant {layer.name} lies outside the .bin file (offset {offset}, size {size})")
        shape = _shape(layer.attrs.get("shape", ""))
        array = np.frombuffer(self._blob, dtype=dtype, count=size // np.dtype(dtype).itemsize, offset=offset)
        if array.size != int(np.prod(shape)):
            raise self.error(f"constant {layer.name}: {size} bytes do not fill shape {shape}")
        return array.reshape(shape).copy()

    def const_input(self, layer: IRLayer, port: int) -> np.ndarray:
        value = self.const(layer.inputs[port])
        if value is None:
            raise self.error(f"input {port} of {layer.name} is not a constant")
        return value

    def other_const(self, layer: IRLayer, than: IRLayer) -> np.ndarray:
        """The constant input of a two-input layer whose other input is `than`."""
        others = [src for src in layer.inputs if src != than.id]
        value = self.const(others[0]) if len(others) == 1 else None
        if value is None:
            raise self.error(f"{layer.name} has no constant input beside {than.name}")
        return value

    def unread_float_constants(self) -> list[str]:
        """Names of float constants nobody read: weights a conversion would silently drop."""
        return [l.name for l in self.layers.values()
                if l.type == "Const" and l.attrs.get("element_type") == "f32" and l.id not in self.read_ids]

    def error(self, message: str) -> UserError:
        return UserError(f"{self.path.name}: {message}: not the MobileStyleGAN export this program reads")


def read_ir(xml_path: str | os.PathLike) -> IRGraph:
    """The graph of `xml_path` and its constants from the .bin beside it."""
    xml_path = Path(xml_path)
    bin_path = xml_path.with_suffix(".bin")
    for path, limit in ((xml_path, MAX_XML_BYTES), (bin_path, MAX_BIN_BYTES)):
        if not path.is_file():
            raise UserError(f"OpenVINO IR file {path} is missing")
        if path.stat().st_size > limit:
            raise UserError(f"{path} is larger than any IR we read ({path.stat().st_size} bytes)")
    text = xml_path.read_bytes()
    if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
        raise UserError(f"{xml_path} declares a DOCTYPE or entities, which an OpenVINO IR never does: refused")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise UserError(f"{xml_path} is not well-formed XML ({exc})") from exc
    if root.tag != "net" or root.find("layers") is None or root.find("edges") is None:
        raise UserError(f"{xml_path} is not an OpenVINO IR (no <net> with <layers> and <edges>)")
    return IRGraph(_layers(root, xml_path), bin_path.read_bytes(), xml_path)


def _layers(root: ET.Element, path: Path) -> dict[str, IRLayer]:
    feeds: dict[tuple[str, str], str] = {}
    for edge in root.find("edges"):
        feeds[(edge.get("to-layer"), edge.get("to-port"))] = edge.get("from-layer")
    layers = {}
    for node in root.find("layers"):
        lid = node.get("id")
        data = node.find("data")
        ports_in = node.find("input")
        inputs = []
        for port in (ports_in if ports_in is not None else []):
            src = feeds.get((lid, port.get("id")))
            if src is None:
                raise UserError(f"{path}: input port {port.get('id')} of layer {node.get('name')} is not connected")
            inputs.append(src)
        ports_out = node.find("output")
        shapes = tuple(tuple(int(d.text) for d in port.findall("dim")) for port in (ports_out if ports_out is not None else []))
        layers[lid] = IRLayer(id=lid, name=node.get("name", ""), type=node.get("type", ""),
                              attrs=dict(data.attrib) if data is not None else {}, inputs=tuple(inputs),
                              output_shapes=shapes)
    return layers


def _shape(text: str) -> tuple[int, ...]:
    return tuple(int(s) for s in text.split(",") if s.strip()) if text.strip() else ()
