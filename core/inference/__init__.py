"""Using a trained run: loading it back, evaluation, prediction on new inputs and export."""
