"""Models: the registered builders, the network classes behind them, fitting a model to a dataset (build.py) and the layer summary for the Layers tab."""
