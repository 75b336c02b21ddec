"""The one time limit tests use. It only guards against a hang: a test that waits for
training, a subprocess or a signal gives up after this long, however slow or loaded the
machine. Speed is measured in benchmarks/ (docs/performance.md), never asserted here."""

HANG_S = 600
HANG_MS = HANG_S * 1000
