"""Rewrites a transformer with onnxruntime's transformer optimizer, as users do
before deploying: fused com.microsoft operators (Gelu, SkipLayerNormalization,
Attention…) in place of the exported subgraphs.

Usage: optimize-transformer.py IN OUT --model-type vit|bert|gpt2 --heads H --hidden D
"""

import argparse
import logging

from onnxruntime.transformers.optimizer import optimize_model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("target")
    parser.add_argument("--model-type", required=True)
    parser.add_argument("--heads", type=int, required=True)
    parser.add_argument("--hidden", type=int, required=True)
    arguments = parser.parse_args()
    # opt_level 0: the Python fusions only (onnxruntime's own graph passes would want torch).
    # The optimizer warns that the producer is not PyTorch; the graph is what matters.
    logging.disable(logging.WARNING)
    model = optimize_model(arguments.source, model_type=arguments.model_type, num_heads=arguments.heads,
                           hidden_size=arguments.hidden, opt_level=0)
    fused = {op: count for op, count in model.get_fused_operator_statistics().items() if count}
    model.save_model_to_file(arguments.target)
    print(f"{arguments.target}: fused {fused}")


if __name__ == "__main__":
    main()
