"""TrainDesk's window: PySide6 and pyqtgraph views over core. No training logic here."""
