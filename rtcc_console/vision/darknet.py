"""Darknet cfg + weights -> ONNX, with numpy and ``onnx.helper`` only.

Covers the layer types yolov3-tiny uses: convolutional (batch-norm folded into the
convolution's weights and bias, leaky ReLU 0.1 or linear), maxpool (darknet pads the
stride-1 pool on the right and bottom only), route (Concat, or identity for one input),
upsample (nearest Resize) and yolo (the network's raw output; decoding is numpy in
``detector``). The graph outputs the raw 255-channel maps of each yolo layer, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
BN_EPSILON = 1e-6  # darknet's normalize: (x - mean) / (sqrt(var) + .000001)


class DarknetError(ValueError):
    """The cfg or weights file is not a network this converter understands."""


@dataclass(slots=True)
class Section:
    kind: str
    options: dict[str, str] = field(default_factory=dict)

    def get_int(self, key: str, default: int) -> int:
        return int(self.options.get(key, default))

    def ints(self, key: str) -> list[int]:
        return [int(v) for v in self.options[key].split(",") if v.strip()]


@dataclass(frozen=True, slots=True)
class YoloHead:
    """What decoding one output needs: its anchors (pixels at network size) and classes."""

    anchors: tuple[tuple[float, float], ...]
    classes: int


@dataclass(frozen=True, slots=True)
class Converted:
    model: onnx.ModelProto
    width: int
    height: int
    heads: tuple[YoloHead, ...]


def parse_cfg(text: str) -> list[Section]:
    sections: list[Section] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            sections.append(Section(kind=line[1:-1].strip()))
            continue
        if "=" not in line or not sections:
            raise DarknetError(f"cfg line not understood: {raw!r}")
        key, value = line.split("=", 1)
        sections[-1].options[key.strip()] = value.strip()
    if not sections or sections[0].kind not in ("net", "network"):
        raise DarknetError("cfg must start with a [net] section")
    return sections


class _Weights:
    def __init__(self, data: bytes) -> None:
        if len(data) < 16:
            raise DarknetError("weights file too short")
        major, minor, _revision = np.frombuffer(data[:12], dtype="<i4")
        seen_bytes = 8 if (major * 10 + minor) >= 2 and major < 1000 and minor < 1000 else 4
        self._buf = np.frombuffer(data, dtype="<f4", offset=12 + seen_bytes)
        self._pos = 0

    def take(self, count: int) -> np.ndarray:
        if self._pos + count > self._buf.size:
            raise DarknetError("weights file ends before the network does")
        out = self._buf[self._pos : self._pos + count].astype(np.float32)
        self._pos += count
        return out

    @property
    def remaining(self) -> int:
        return int(self._buf.size - self._pos)


def yolo_heads(sections: list[Section]) -> tuple[YoloHead, ...]:
    heads: list[YoloHead] = []
    for sec in sections[1:]:
        if sec.kind == "yolo":
            flat = [float(v) for v in sec.options["anchors"].split(",") if v.strip()]
            pairs = [(flat[2 * i], flat[2 * i + 1]) for i in range(len(flat) // 2)]
            heads.append(
                YoloHead(
                    anchors=tuple(pairs[m] for m in sec.ints("mask")),
                    classes=sec.get_int("classes", 80),
                )
            )
    return tuple(heads)


def convert(cfg_path: Path, weights_path: Path) -> Converted:
    sections = parse_cfg(cfg_path.read_text(encoding="utf-8"))
    weights = _Weights(weights_path.read_bytes())
    net = sections[0]
    width, height, channels = (
        net.get_int("width", 416),
        net.get_int("height", 416),
        net.get_int("channels", 3),
    )

    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    outputs: list[str] = []  # tensor name of each layer
    chans: list[int] = []  # channel count of each layer's output
    out_names: list[str] = []
    prev, prev_c = "images", channels

    for idx, sec in enumerate(sections[1:]):
        name = f"l{idx}"
        if sec.kind == "convolutional":
            filters, size = sec.get_int("filters", 1), sec.get_int("size", 1)
            stride = sec.get_int("stride", 1)
            pad = size // 2 if sec.get_int("pad", 0) else sec.get_int("padding", 0)
            bias = weights.take(filters)
            if sec.get_int("batch_normalize", 0):
                scale, mean, var = (
                    weights.take(filters),
                    weights.take(filters),
                    weights.take(filters),
                )
                w = weights.take(filters * prev_c * size * size).reshape(
                    filters, prev_c, size, size
                )
                factor = scale / (np.sqrt(var) + BN_EPSILON)
                w = w * factor[:, None, None, None]
                bias = bias - mean * factor
            else:
                w = weights.take(filters * prev_c * size * size).reshape(
                    filters, prev_c, size, size
                )
            inits.append(numpy_helper.from_array(w.astype(np.float32), f"{name}_w"))
            inits.append(numpy_helper.from_array(bias.astype(np.float32), f"{name}_b"))
            conv_out = f"{name}_conv"
            nodes.append(
                helper.make_node(
                    "Conv",
                    [prev, f"{name}_w", f"{name}_b"],
                    [conv_out],
                    kernel_shape=[size, size],
                    strides=[stride, stride],
                    pads=[pad, pad, pad, pad],
                )
            )
            activation = sec.options.get("activation", "linear")
            if activation == "leaky":
                nodes.append(helper.make_node("LeakyRelu", [conv_out], [name], alpha=0.1))
            elif activation == "linear":
                nodes.append(helper.make_node("Identity", [conv_out], [name]))
            else:
                raise DarknetError(f"activation {activation!r} not supported")
            cur_c = filters
        elif sec.kind == "maxpool":
            size, stride = sec.get_int("size", sec.get_int("stride", 1)), sec.get_int("stride", 1)
            # darknet pads (size - 1) in total, offset -pad/2: all of it right/bottom for size 2
            total = sec.get_int("padding", size - 1)
            before = total // 2
            pads = [before, before, total - before, total - before] if stride == 1 else [0, 0, 0, 0]
            nodes.append(
                helper.make_node(
                    "MaxPool",
                    [prev],
                    [name],
                    kernel_shape=[size, size],
                    strides=[stride, stride],
                    pads=pads,
                )
            )
            cur_c = prev_c
        elif sec.kind == "route":
            layers = [i if i >= 0 else idx + i for i in sec.ints("layers")]
            if any(i < 0 or i >= idx for i in layers):
                raise DarknetError(f"route at layer {idx} points outside the network")
            if len(layers) == 1:
                nodes.append(helper.make_node("Identity", [outputs[layers[0]]], [name]))
            else:
                nodes.append(
                    helper.make_node("Concat", [outputs[i] for i in layers], [name], axis=1)
                )
            cur_c = sum(chans[i] for i in layers)
        elif sec.kind == "upsample":
            up = float(sec.get_int("stride", 2))
            scales = f"{name}_scales"
            inits.append(numpy_helper.from_array(np.array([1, 1, up, up], np.float32), scales))
            nodes.append(
                helper.make_node(
                    "Resize",
                    [prev, "", scales],
                    [name],
                    mode="nearest",
                    coordinate_transformation_mode="asymmetric",
                    nearest_mode="floor",
                )
            )
            cur_c = prev_c
        elif sec.kind == "yolo":
            nodes.append(helper.make_node("Identity", [prev], [name]))
            out_names.append(name)
            cur_c = prev_c
        else:
            raise DarknetError(f"layer type [{sec.kind}] not supported")
        outputs.append(name)
        chans.append(cur_c)
        prev, prev_c = name, cur_c

    if weights.remaining:
        raise DarknetError(f"{weights.remaining} weights left over: cfg and weights do not match")
    if not out_names:
        raise DarknetError("network has no [yolo] layer")

    graph = helper.make_graph(
        nodes,
        "darknet",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, channels, height, width])],
        [
            helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, f"{n}_c", f"{n}_h", f"{n}_w"])
            for n in out_names
        ],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return Converted(model=model, width=width, height=height, heads=yolo_heads(sections))
