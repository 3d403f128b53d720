"""Export small transformers and quantized models that use onnxruntime's contrib operators.

For checking the analysis of com.microsoft operators by hand (nothing here is
committed output): a 2-layer GPT-2 and a 2-layer BERT encoder exported with
torch.onnx, then fused by onnxruntime's transformer optimizer (Attention,
MultiHeadAttention, SkipLayerNormalization, FastGelu), the GPT-2 quantized to
4-bit MatMulNBits, and a 2-layer MLP and a ResNet-18 quantized with
quantize_dynamic (MatMulInteger / ConvInteger) and quantize_static (QDQ and
QOperator). Weights are random: only shapes and counts matter.

Usage: make-contrib-models.py OUTPUT_DIR   (needs torch, torchvision,
transformers, onnx and onnxruntime; see docs/COUNTING.md for what to compare)
"""

import os
import sys

import numpy as np
import onnx
import torch
import torchvision
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic,
                                      quantize_static)
from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
from onnxruntime.transformers.fusion_options import FusionOptions
from onnxruntime.transformers.optimizer import optimize_model
from transformers import BertConfig, BertModel, GPT2Config, GPT2LMHeadModel


def export(module, args, path, names, dynamic):
    # Freshly initialised norms and biases are all ones or zeros, and the exporter stores equal tensors once:
    # random values keep every parameter its own tensor, as in a trained model.
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.normal_(0, 0.02)
    module.eval()
    torch.onnx.export(module, args, path, opset_version=17, dynamo=False, input_names=names,
                      dynamic_axes=dynamic, do_constant_folding=True)


class FirstOutput(torch.nn.Module):
    """A transformers model reduced to its first output (the logits or the last hidden state), for tracing."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask=None):
        # An explicit mask keeps transformers from probing for packed sequences, which does not export.
        mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
        return self.model(input_ids=input_ids, attention_mask=mask)[0]


def optimize(source, target, model_type, heads, hidden, level, **options):
    fusion = FusionOptions(model_type)
    # EmbedLayerNormalization is not among the operators the analysis knows.
    fusion.enable_embed_layer_norm = False
    for key, value in options.items():
        setattr(fusion, key, value)
    model = optimize_model(source, model_type=model_type, num_heads=heads, hidden_size=hidden,
                           opt_level=level, optimization_options=fusion)
    model.save_model_to_file(target)
    print(target, model.get_fused_operator_statistics())


class Images(CalibrationDataReader):
    """A few random batches for static quantization's calibration."""

    def __init__(self, name, shape):
        rng = np.random.default_rng(0)
        self.batches = iter([{name: rng.standard_normal(shape).astype(np.float32)} for _ in range(4)])

    def get_next(self):
        return next(self.batches, None)


def quantize_all(source, stem, name, shape, operators=True):
    quantize_dynamic(source, f"{stem}-dynamic.onnx", weight_type=QuantType.QInt8)
    quantize_static(source, f"{stem}-qdq.onnx", Images(name, shape), quant_format=QuantFormat.QDQ)
    if operators:
        quantize_static(source, f"{stem}-qop.onnx", Images(name, shape), quant_format=QuantFormat.QOperator)


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    sequence = {0: "batch", 1: "sequence"}

    # The eager attention is the subgraph the optimizer's fusions recognise.
    config = GPT2Config(n_layer=2, use_cache=False)
    config._attn_implementation = "eager"
    gpt2 = FirstOutput(GPT2LMHeadModel(config))
    ids = torch.ones(1, 16, dtype=torch.long)
    export(gpt2, (ids,), f"{out}/gpt2.onnx", ["input_ids"], {"input_ids": sequence})
    for level in (1, 99):
        optimize(f"{out}/gpt2.onnx", f"{out}/gpt2-opt{level}.onnx", "gpt2", 12, 768, level)
    optimize(f"{out}/gpt2.onnx", f"{out}/gpt2-mha.onnx", "gpt2", 12, 768, 1, use_multi_head_attention=True)
    quantizer = MatMulNBitsQuantizer(onnx.load(f"{out}/gpt2-opt1.onnx"), bits=4, block_size=32, is_symmetric=False)
    quantizer.process()
    quantizer.model.save_model_to_file(f"{out}/gpt2-opt1-nbits.onnx", use_external_data_format=False)

    config = BertConfig(num_hidden_layers=2, hidden_size=256, num_attention_heads=4, intermediate_size=1024)
    config._attn_implementation = "eager"
    bert = FirstOutput(BertModel(config))
    export(bert, (ids, torch.ones(1, 16, dtype=torch.long)), f"{out}/bert.onnx", ["input_ids", "attention_mask"],
           {"input_ids": sequence, "attention_mask": sequence})
    for level in (1, 99):
        optimize(f"{out}/bert.onnx", f"{out}/bert-opt{level}.onnx", "bert", 4, 256, level)
    optimize(f"{out}/bert.onnx", f"{out}/bert-mha.onnx", "bert", 4, 256, 1, use_multi_head_attention=True)

    mlp = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    export(mlp, (torch.randn(1, 64),), f"{out}/mlp.onnx", ["x"], None)
    quantize_all(f"{out}/mlp.onnx", f"{out}/mlp", "x", (1, 64))
    resnet = torchvision.models.resnet18(weights=None)
    export(resnet, (torch.randn(1, 3, 224, 224),), f"{out}/resnet18.onnx", ["x"], None)
    # onnxruntime 1.32's QOperator quantizer fails on this graph's biases, so ResNet-18 has no QOperator form.
    quantize_all(f"{out}/resnet18.onnx", f"{out}/resnet18", "x", (1, 3, 224, 224), operators=False)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/contrib-models")
