"""TrainDesk's training engine: configuration, catalogues, data, models and the loop.

Nothing in this package imports Qt, so it runs headless: in tests, on a GPU server,
from the command line (`python -m core`).
"""

__version__ = "0.1.0"
