"""Fine-tuning: start weights (weights.py), freezing, per-layer learning rates and gradual
unfreezing (freezing.py), LoRA (lora.py), and how their settings name layers (names.py)."""
