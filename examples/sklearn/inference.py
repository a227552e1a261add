"""The scikit-learn inference script of a custom inference container (SageMaker inference toolkit style).

SageMaker's scikit-learn container, or `mme local --handler examples/sklearn/inference.py`, calls:
  model_fn(model_dir)                  once per model, when it is loaded
  input_fn(request_body, content_type) text/csv rows, or application/json {"instances": [[...], ...]}
  predict_fn(input_data, model)        the model's predictions
  output_fn(prediction, accept)        application/json {"predictions": [...]}, or text/csv one per line
"""
import json
import os

import joblib
import numpy as np


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(request_body, request_content_type):
    if request_content_type == "text/csv":
        rows = [line for line in request_body.strip().split("\n") if line.strip()]
        return np.array([[float(v) for v in row.split(",")] for row in rows])
    if request_content_type == "application/json":
        payload = json.loads(request_body)
        return np.array(payload["instances"], dtype=float)
    raise ValueError("Unsupported content type: {}".format(request_content_type))


def predict_fn(input_data, model):
    return model.predict(input_data)


def output_fn(prediction, accept):
    if accept == "text/csv":
        return "\n".join(str(p) for p in prediction.tolist()), "text/csv"
    return json.dumps({"predictions": prediction.tolist()}), "application/json"
