"""Fine-tuning: start weights, freezing, per-layer learning rates, gradual unfreezing and LoRA."""
