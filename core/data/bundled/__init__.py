"""The small datasets TrainDesk ships: scikit-learn's copies of the handwritten digits and the
iris, wine, breast-cancer and diabetes tables (BSD-3, LICENSE and README.md beside them).

The files are scikit-learn 1.9.1's own (sklearn/datasets/data), read here the way its
loaders read them, so the arrays are the same bit for bit (tests/test_tables_fast.py compares
them with scikit-learn's where it is installed) without installing scikit-learn and scipy
(about 200 MB) or importing them (seconds) for a table of 150 rows.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FOLDER = Path(__file__).parent

_BREAST_MEASURES = ("radius", "texture", "perimeter", "area", "smoothness", "compactness",
                    "concavity", "concave points", "symmetry", "fractal dimension")
# The column names scikit-learn's loaders give (they are not in the files).
FEATURE_NAMES = {
    "iris": ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"],
    "wine": ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols",
             "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue",
             "od280/od315_of_diluted_wines", "proline"],
    "breast_cancer": ([f"mean {m}" for m in _BREAST_MEASURES]
                      + [f"{m} error" for m in _BREAST_MEASURES]
                      + [f"worst {m}" for m in _BREAST_MEASURES]),
    "diabetes": ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"],
}
FILES = {"iris": "iris.csv", "wine": "wine_data.csv", "breast_cancer": "breast_cancer.csv"}


@dataclass
class BundledTable:
    """A table as scikit-learn's loader returns it: features, targets and their names."""

    data: np.ndarray  # float64, one row per sample
    target: np.ndarray  # class numbers (int64), or diabetes' progression numbers (float64)
    feature_names: list[str]
    target_names: list[str]  # the classes, in the order of their numbers; [] for a regression


def load_table(name: str) -> BundledTable:
    """iris, wine, breast_cancer (classification) or diabetes (regression)."""
    if name == "diabetes":
        return _diabetes()
    with open(FOLDER / FILES[name], encoding="utf-8") as file:
        reader = csv.reader(file)
        first = next(reader)  # rows, columns, then the class names
        data = np.empty((int(first[0]), int(first[1])))
        target = np.empty((int(first[0]),), dtype=int)
        for i, row in enumerate(reader):
            data[i] = np.asarray(row[:-1], dtype=np.float64)
            target[i] = np.asarray(row[-1], dtype=int)
    return BundledTable(data, target, FEATURE_NAMES[name], first[2:])


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 scans as 8x8 float64 images of 0..16 ink levels, and their digits."""
    data = _gzipped("digits.csv.gz", delimiter=",")
    return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(int, copy=False)


def _diabetes() -> BundledTable:
    # scikit-learn's load_diabetes(scaled=True): each column centred and scaled to unit
    # variance (sklearn.preprocessing.scale, whose corrections never apply to this data),
    # then divided by the square root of the number of rows.
    data = _gzipped("diabetes_data_raw.csv.gz")
    mean, std = np.nanmean(data, 0), np.nanstd(data, 0)
    data -= mean
    data /= std
    data /= data.shape[0] ** 0.5
    return BundledTable(data, _gzipped("diabetes_target.csv.gz"), FEATURE_NAMES["diabetes"], [])


def _gzipped(file_name: str, **kwargs) -> np.ndarray:
    with gzip.open(FOLDER / file_name, mode="rt", encoding="utf-8") as file:
        return np.loadtxt(file, **kwargs)
