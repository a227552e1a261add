"""Reference server for bench/local.bench.ts: scores XGBoost the way the SageMaker XGBoost container serves a
model: Flask under gunicorn (one worker per core), the CSV body turned into a DMatrix (delimiter sniffed from the
first line, empty fields as NaN, float64 array), Booster.predict, predictions joined by "," as text/csv.

Debian packages only: python3-xgboost, python3-flask, gunicorn. Run:
    SM_MODEL_DIR=/path/to/extracted/artifact OMP_NUM_THREADS=1 \
    gunicorn --workers 2 --worker-class gthread --bind 127.0.0.1:8081 --chdir bench/reference server:app
"""
import csv
import os

import numpy as np
import xgboost as xgb
from flask import Flask, Response, request

MODEL_DIR = os.environ.get("SM_MODEL_DIR", "/opt/ml/model")

booster = xgb.Booster(model_file=os.path.join(MODEL_DIR, "xgboost-model"))
# One scoring thread per worker process: the workers already use every core.
booster.set_param({"nthread": 1})

app = Flask(__name__)


def to_dmatrix(body: bytes) -> xgb.DMatrix:
    text = body.decode("utf-8").strip()
    try:
        delimiter = csv.Sniffer().sniff(text.split("\n")[0][:512]).delimiter
    except csv.Error:
        delimiter = ","
    if delimiter.isalnum():
        delimiter = ","
    rows = [["nan" if field == "" else field for field in line.split(delimiter)] for line in text.split("\n")]
    return xgb.DMatrix(np.array(rows).astype(float))


@app.route("/ping", methods=["GET"])
def ping():
    return Response(status=200)


@app.route("/invocations", methods=["POST"])
def invocations():
    media_type = (request.content_type or "").split(";")[0].strip().lower()
    if media_type != "text/csv":
        return Response(f"unsupported content type {media_type}", status=415)
    try:
        dmatrix = to_dmatrix(request.get_data())
    except ValueError as err:
        return Response(f"bad CSV: {err}", status=400)
    predictions = booster.predict(dmatrix, validate_features=False)
    return Response(",".join(map(str, predictions.tolist())), status=200, mimetype="text/csv")
