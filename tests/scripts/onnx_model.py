"""A segmentation model the test makes itself with onnx's helpers, for the test that
Hounsfield runs a site's model: three classes scored from each voxel's value v by a few
operations, so that NumPy tells independently which class wins.

Usage:
  onnx_model.py make OUT.onnx --patch D,H,W [--channels N]
  onnx_model.py expect FOLDER
  onnx_model.py seg SEG.dcm

The model takes one patch [1, 1, D, H, W] (f32) and gives [1, 3, D, H, W]: class 0 (the
background) scores 0 (v x 0), class 1 scores v - 300 and class 2 scores -(v + 500). The
highest score wins, the first on a tie: class 1 where v > 300 (bone), class 2 where
v < -500 (air), the background elsewhere.

`make` prints {"classes": 3} (with `--channels N`, a patch of N channels: a model this
program must refuse); `expect` prints the voxel counts NumPy finds for classes 1 and 2 on
the CT in FOLDER: {"class 1": N1, "class 2": N2}; `seg` prints what pydicom reads of each
segment of a Segmentation: its label, SegmentAlgorithmType and SegmentAlgorithmName.
"""

import argparse
import json

import onnx
import pydicom
from onnx import TensorProto, helper

from segment_reference import read_ct


def make(out, patch, channels):
    d, h, w = patch
    x = helper.make_tensor_value_info("patch", TensorProto.FLOAT, [1, channels, d, h, w])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 3 * channels, d, h, w])
    constants = [
        helper.make_node("Constant", [], [name], value=helper.make_tensor(name, TensorProto.FLOAT, [], [value]))
        for name, value in [("zero", 0.0), ("bone", 300.0), ("air", 500.0)]
    ]
    nodes = constants + [
        helper.make_node("Mul", ["patch", "zero"], ["background"]),
        helper.make_node("Sub", ["patch", "bone"], ["class1"]),
        helper.make_node("Add", ["patch", "air"], ["shifted"]),
        helper.make_node("Neg", ["shifted"], ["class2"]),
        helper.make_node("Concat", ["background", "class1", "class2"], ["scores"], axis=1),
    ]
    graph = helper.make_graph(nodes, "three-classes", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, out)
    print(json.dumps({"classes": 3}))


def expect(folder):
    volume, _, _, _ = read_ct(folder)
    print(json.dumps({"class 1": int((volume > 300).sum()), "class 2": int((volume < -500).sum())}))


def seg(path):
    ds = pydicom.dcmread(path)
    print(json.dumps([
        {
            "label": str(item.SegmentLabel),
            "algorithm_type": str(item.SegmentAlgorithmType),
            "algorithm_name": str(getattr(item, "SegmentAlgorithmName", "")),
        }
        for item in ds.SegmentSequence
    ]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["make", "expect", "seg"])
    parser.add_argument("path")
    parser.add_argument("--patch")
    parser.add_argument("--channels", type=int, default=1)
    args = parser.parse_args()
    if args.what == "make":
        make(args.path, [int(v) for v in args.patch.split(",")], args.channels)
    elif args.what == "expect":
        expect(args.path)
    else:
        seg(args.path)


if __name__ == "__main__":
    main()
