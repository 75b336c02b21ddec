"""Models: the registered builders (builders.py), the network classes behind them
(networks.py), fitting a model to a dataset (build.py) and the layer summary for the Layers
tab (summary.py)."""
