"""The five catalogues: every model, dataset, optimizer, scheduler and loss TrainDesk knows.

An entry has a name, a one-line help text and typed parameters (core/entries.py). The GUI
builds its forms from these, the command line lists them (`traindesk catalog`), and run
files are checked against them, so adding a model is one builder function registered in
its module. This module is the one registry: it names the modules whose entries make up
each catalogue, in the order forms list them (digits, simple_cnn, adam come first).
Those modules import torch only inside their builders, so importing this is fast and
torch-free, and the GUI builds its forms before torch is loaded.
"""

from __future__ import annotations

from core.data import audio, digits, images, instructions, tables, text
from core.entries import Catalogue
from core.models import builders, hf
from core.train import losses, optimizers

MODELS = Catalogue.joined("model", builders.MODELS, hf.MODELS)
DATASETS = Catalogue.joined("dataset", digits.DATASETS, images.DATASETS, tables.DATASETS,
                            text.DATASETS, instructions.DATASETS, audio.DATASETS)
OPTIMIZERS = Catalogue.joined("optimizer", optimizers.OPTIMIZERS)
SCHEDULERS = Catalogue.joined("scheduler", optimizers.SCHEDULERS)
LOSSES = Catalogue.joined("loss", losses.LOSSES)

# By run-file section.
CATALOGUES = {
    "model": MODELS, "data": DATASETS, "optimizer": OPTIMIZERS,
    "scheduler": SCHEDULERS, "loss": LOSSES,
}
