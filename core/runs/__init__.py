"""Run folders and what is read back from them: the folder itself, the run history, curves and curve hints."""
