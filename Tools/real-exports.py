"""Exports models the way users make them today, with onnxruntime's outputs on
seeded inputs, for checking the engine on files it was not built against.
Writes OUTPUT_DIR/<case>/model.onnx and test_data_set_0/input_K.pb, output_K.pb.

- vad_if_conv1d: a voice-activity model in the style of Silero VAD, scripted
  so that its sample-rate branch is an ONNX If; the STFT inside it is a 1-D
  convolution with a stride of one hop, followed by 1-D convolutions, an
  LSTM and a sigmoid (torch.onnx, TorchScript exporter, opset 17).
- gpt2: transformers' GPT2LMHeadModel, 2 layers (torch.onnx, dynamo exporter).
- llama_gqa: transformers' LlamaForCausalLM with 4 query heads sharing 2
  key/value heads, 2 layers, rotary embedding, RMSNorm and SiLU gating;
  exported by the dynamo exporter at its default opset and at opset 23
  (the ONNX Attention and RMSNormalization operators).
- resnet18_f16 / resnet18_qdq: torchvision's ResNet-18 exported by torch.onnx,
  converted to float16 by onnxruntime.transformers.float16, and quantised
  to int8 QDQ by onnxruntime.quantization.quantize_static.

Weights are random (seeded); only the computation matters.

The small ones (groups vad and language) are committed under
Fixtures/real-exports, which the engine's tests check; the CNN group is
about 80 MB.

Usage: PYTHON Tools/real-exports.py OUTPUT_DIR [vad] [language] [cnn], with a Python that has
torch 2.13 (CPU), torchvision 0.28, transformers 4.57, onnxscript, onnx
1.23.2 and onnxruntime 1.32.0 (see docs/CONFORMANCE.md, "Real exports").
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch

from testdata import write_case

# torchvision's wheel for another torch build registers these operators'
# meta functions at import; defining them lets it import (detection is not used).
_library = torch.library.Library("torchvision", "DEF")
_library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
_library.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
import torchvision  # noqa: E402
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static  # noqa: E402
from onnxruntime.transformers.float16 import convert_float_to_float16  # noqa: E402
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM  # noqa: E402


def write(folder, model_path, feeds):
    """The case: the model and onnxruntime's outputs, and what the export holds."""
    model = onnx.load(model_path)
    outputs = write_case(folder, model, feeds)
    ops = sorted({n.op_type for n in model.graph.node})
    print(f"{folder.name}: opset {model.opset_import[0].version}, {len(model.graph.node)} nodes, "
          f"outputs {[a.shape for a in outputs]}, ops {ops}")


def randomize(module):
    """Random weights that keep activations of order 1, so that outputs are not
    too small for the tolerance to matter: matrices and kernels normal with
    variance 1/fan-in, norm scales near 1, biases and other vectors small."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            if parameter.dim() >= 2:
                parameter.copy_(noise / parameter[0].numel() ** 0.5)
            elif name.endswith("weight"):
                parameter.copy_(1 + 0.1 * noise)
            else:
                parameter.copy_(0.1 * noise)
    return module.eval()


class VoiceActivity(torch.nn.Module):
    """Silero-style VAD: STFT as a strided 1-D convolution, chosen by sample rate in an If."""

    def __init__(self):
        super().__init__()
        window, hop = 64, 32
        n = torch.arange(window, dtype=torch.float32)
        k = torch.arange(window // 2 + 1, dtype=torch.float32)[:, None]
        hann = 0.5 - 0.5 * torch.cos(2 * torch.pi * n / window)
        basis = torch.cat([torch.cos(2 * torch.pi * k * n / window), -torch.sin(2 * torch.pi * k * n / window)]) * hann
        self.register_buffer("basis16k", basis[:, None, :].clone())
        self.register_buffer("basis8k", basis[:, None, ::2].clone())
        self.hop = hop
        self.encoder = torch.nn.Sequential(torch.nn.Conv1d(33, 32, 3, padding=1), torch.nn.ReLU(),
                                           torch.nn.Conv1d(32, 32, 3, stride=2, padding=1), torch.nn.ReLU())
        self.lstm = torch.nn.LSTM(32, 32, batch_first=True)
        self.head = torch.nn.Conv1d(32, 1, 1)

    def forward(self, audio: torch.Tensor, sample_rate: torch.Tensor) -> torch.Tensor:
        x = audio[:, None, :]
        if bool(sample_rate == 16000):
            spectrum = torch.nn.functional.conv1d(x, self.basis16k, stride=self.hop)
        else:
            spectrum = torch.nn.functional.conv1d(x, self.basis8k, stride=self.hop // 2)
        real, imaginary = spectrum[:, :33], spectrum[:, 33:]
        magnitude = torch.sqrt(real * real + imaginary * imaginary + 1e-6)
        features = self.encoder(magnitude)
        hidden, _ = self.lstm(features.transpose(1, 2))
        return torch.sigmoid(self.head(hidden.transpose(1, 2))).mean(dim=2)


class Logits(torch.nn.Module):
    """A causal language model reduced to its logits, with an explicit all-ones mask."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        return self.model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), use_cache=False).logits


def export_vad(out, scratch):
    module = randomize(VoiceActivity())
    path = scratch / "vad.onnx"
    scripted = torch.jit.script(module)
    audio = torch.from_numpy(np.random.default_rng(1).uniform(-1, 1, size=(1, 1024)).astype(np.float32))
    rate = torch.tensor(16000)
    torch.onnx.export(scripted, (audio, rate), path, dynamo=False, opset_version=17, input_names=["audio", "sample_rate"],
                      output_names=["probability"], dynamic_axes={"audio": {1: "samples"}})
    write(out / "vad_if_conv1d", path, {"audio": audio.numpy(), "sample_rate": rate.numpy()})


def export_language_models(out, scratch):
    # Small enough to commit (about 120 KB each): the layers are what matter.
    ids = torch.from_numpy(np.random.default_rng(2).integers(0, 128, size=(1, 16)))
    gpt2 = Logits(randomize(GPT2LMHeadModel(GPT2Config(n_layer=2, n_embd=32, n_head=4, vocab_size=128, n_positions=32))))
    path = scratch / "gpt2.onnx"
    torch.onnx.export(gpt2, (ids,), path, dynamo=True, input_names=["input_ids"], output_names=["logits"])
    write(out / "gpt2", path, {"input_ids": ids.numpy()})

    config = LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, vocab_size=128, max_position_embeddings=32)
    llama = Logits(randomize(LlamaForCausalLM(config)))
    # (The TorchScript exporter fails on this model in torch 2.13.)
    for name, options in [("llama_gqa", dict(dynamo=True)), ("llama_gqa_opset23", dict(dynamo=True, opset_version=23))]:
        path = scratch / f"{name}.onnx"
        torch.onnx.export(llama, (ids,), path, input_names=["input_ids"], output_names=["logits"], **options)
        write(out / name, path, {"input_ids": ids.numpy()})


class Images(CalibrationDataReader):
    def __init__(self, name, count):
        rng = np.random.default_rng(3)
        self.batches = iter([{name: rng.uniform(-1, 1, size=(1, 3, 224, 224)).astype(np.float32)} for _ in range(count)])

    def get_next(self):
        return next(self.batches, None)


def export_cnn_conversions(out, scratch):
    path = scratch / "resnet18.onnx"
    image = torch.from_numpy(np.random.default_rng(4).uniform(-1, 1, size=(1, 3, 224, 224)).astype(np.float32))
    torch.onnx.export(randomize(torchvision.models.resnet18()), (image,), path, dynamo=False, opset_version=17,
                      input_names=["image"], output_names=["logits"])
    half = convert_float_to_float16(onnx.load(path), keep_io_types=False)
    onnx.save(half, scratch / "resnet18_f16.onnx")
    write(out / "resnet18_f16", scratch / "resnet18_f16.onnx", {"image": image.numpy().astype(np.float16)})
    quantize_static(path, scratch / "resnet18_qdq.onnx", Images("image", 8), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True)
    write(out / "resnet18_qdq", scratch / "resnet18_qdq.onnx", {"image": image.numpy()})
    write(out / "resnet18", path, {"image": image.numpy()})


GROUPS = {"vad": export_vad, "language": export_language_models, "cnn": export_cnn_conversions}


def main():
    out = Path(sys.argv[1])
    groups = sys.argv[2:] or list(GROUPS)
    with tempfile.TemporaryDirectory() as scratch:
        for group in groups:
            GROUPS[group](out, Path(scratch))


if __name__ == "__main__":
    main()
