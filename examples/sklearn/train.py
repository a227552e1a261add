"""Writes a small scikit-learn model folder for inference.py: python3 train.py OUT_DIR (needs scikit-learn).

OUT_DIR/model.joblib is a LinearRegression on 8 features (the merchants example's row width), fitted on
deterministic data; package it with `mme package OUT_DIR -o sk.tar.gz`.
"""
import os
import sys

import joblib
import numpy as np
from sklearn.linear_model import LinearRegression

out = sys.argv[1] if len(sys.argv) > 1 else "model"
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
X = rng.normal(size=(200, 8))
y = X @ np.arange(1, 9) + 0.5
joblib.dump(LinearRegression().fit(X, y), os.path.join(out, "model.joblib"))
print(os.path.join(out, "model.joblib"))
