"""Using a trained run: loading it back and evaluating it (evaluation.py), prediction on new
inputs (predict.py), export (export.py), and reading a model's outputs (outputs.py)."""
