#!/usr/bin/python3
"""Generate the example fleet that `npm run demo` serves: 70 small XGBoost fraud models, one per merchant.

How to rerun (from the repository root):

    apt-get install -y python3-xgboost        # Debian's xgboost 1.7 (runs under /usr/bin/python3)
    /usr/bin/python3 examples/merchants/generate.py

The script is deterministic (fixed seeds) and rewrites everything below examples/merchants/ except itself:

    m01/xgboost-model ... m70/xgboost-model   one model per merchant, in the legacy binary format that SageMaker's
                                               XGBoost training jobs write; m07, m21, m35, m49 and m63 are saved
                                               as xgboost-model.json instead, to show that a fleet can mix both
    request.csv                                one transaction to score (text/csv, no header, empty = missing)
    rows.csv                                   six transactions (the first is request.csv), same layout
    summary.json                              per merchant: trees, depth, fraud rate, training rows, AUC on a
                                               held-out set, and xgboost's own score for request.csv

Each model is a real binary:logistic fraud classifier trained on that merchant's own synthetic transactions: the
merchants differ in ticket size, online share, customer geography, fraud rate and in how fraud shows in the data,
so the 70 models disagree about the same transaction. Features, in request order (see FEATURES below):

    amount, hour, country_risk, card_age_days, txns_24h, distance_km (missing when online), is_online, amount_ratio

Each model has 20 to 50 trees of depth 3 to 5, so the whole folder stays well under 2 MB.
"""
import json
import os
import shutil

import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
MERCHANTS = 70
JSON_MERCHANTS = {7, 21, 35, 49, 63}
FEATURES = [
    "amount",  # transaction amount in the merchant's currency
    "hour",  # local hour of day, 0-23
    "country_risk",  # risk score of the card's issuing country, 0-1
    "card_age_days",  # days since the card was first seen
    "txns_24h",  # transactions on this card in the last 24 hours
    "distance_km",  # distance between the card's home and the shop (missing for online payments)
    "is_online",  # 1 for card-not-present payments
    "amount_ratio",  # amount divided by the card's average amount
]
REQUEST = [412.50, 3, 0.82, 14, 6, None, 1, 5.3]
EXTRA_ROWS = [
    [23.90, 14, 0.05, 1460, 1, 2.4, 0, 0.9],
    [1250.00, 2, 0.91, 3, 9, None, 1, 11.0],
    [89.99, 19, 0.12, 730, 2, 12.0, 0, 1.2],
    [310.00, 4, 0.66, 21, 5, 830.0, 0, 4.1],
    [15.00, 11, 0.02, 2900, 1, None, 1, 0.4],
]


def merchant_data(rng, profile, n):
    """n transactions of one merchant, and whether each was fraud."""
    online = rng.random(n) < profile["online_share"]
    amount = np.exp(rng.normal(profile["log_ticket"], 0.8, n))
    hour = rng.integers(0, 24, n)
    country_risk = rng.beta(1.2, profile["risk_beta"], n)
    card_age = rng.exponential(profile["card_age"], n)
    txns = rng.poisson(1.5, n) + 1
    distance = np.where(online, np.nan, rng.exponential(profile["distance"], n))
    avg_amount = amount / np.exp(rng.normal(0.0, 0.5, n))
    ratio = amount / avg_amount

    w = profile["weights"]
    night = ((hour < 6) | (hour >= 23)).astype(float)
    logit = (
        profile["base_logit"]
        + w[0] * (np.log(amount) - profile["log_ticket"])
        + w[1] * night
        + w[2] * country_risk
        - w[3] * np.log1p(card_age) / 3.0
        + w[4] * np.log(txns)
        + w[5] * np.where(online, 0.0, np.log1p(np.nan_to_num(distance)) / 3.0)
        + w[6] * online
        + w[7] * np.log(ratio)
    )
    fraud = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    # Fraudsters push the amount up relative to the card's history: the signal the models learn most from.
    ratio = np.where(fraud, ratio * np.exp(rng.normal(profile["fraud_lift"], 0.4, n)), ratio)
    X = np.column_stack([amount, hour, country_risk, card_age, txns, distance, online, ratio]).astype(np.float32)
    return X, fraud.astype(np.float32)


def auc(y, p):
    """Area under the ROC curve by the rank-sum formula (ties averaged)."""
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    for v in np.unique(p):
        tie = p == v
        ranks[tie] = ranks[tie].mean()
    pos = y == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def csv_row(row):
    return ",".join("" if v is None else repr(float(v)) if not float(v).is_integer() else str(int(v)) for v in row)


def main():
    for name in os.listdir(HERE):
        if name.startswith("m") and name[1:].isdigit():
            shutil.rmtree(os.path.join(HERE, name))
    request = np.array([[np.nan if v is None else v for v in REQUEST]], dtype=np.float32)
    summary = {"xgboost": xgb.__version__, "features": FEATURES, "request": "request.csv", "merchants": []}
    for i in range(1, MERCHANTS + 1):
        rng = np.random.default_rng(1000 + i)
        profile = {
            "online_share": float(rng.uniform(0.05, 0.9)),
            "log_ticket": float(rng.uniform(2.5, 6.0)),
            "risk_beta": float(rng.uniform(3.0, 12.0)),
            "card_age": float(rng.uniform(200, 1500)),
            "distance": float(rng.uniform(5, 80)),
            "base_logit": float(rng.uniform(-4.6, -3.4)),
            "weights": (np.array([0.6, 1.2, 2.5, 1.5, 0.8, 0.7, 0.6, 0.9]) * rng.uniform(0.5, 1.5, 8)).tolist(),
            "fraud_lift": float(rng.uniform(0.5, 1.5)),
        }
        trees = int(rng.integers(20, 51))
        depth = int(rng.integers(3, 6))
        rows = int(rng.integers(3000, 6000))
        X, y = merchant_data(rng, profile, rows + 2000)
        train = xgb.DMatrix(X[:rows], label=y[:rows], feature_names=FEATURES)
        test = xgb.DMatrix(X[rows:], feature_names=FEATURES)
        params = {
            "objective": "binary:logistic",
            "max_depth": depth,
            "eta": 0.15,
            "subsample": 0.8,
            "min_child_weight": 5,
            "gamma": 1.0,
            "eval_metric": "auc",
            "seed": i,
            "nthread": 1,
        }
        booster = xgb.train(params, train, num_boost_round=trees)
        name = f"m{i:02d}"
        folder = os.path.join(HERE, name)
        os.makedirs(folder)
        # Feature names live only in JSON models; the legacy binary keeps none, as SageMaker artifacts usually do.
        file = "xgboost-model.json" if i in JSON_MERCHANTS else "xgboost-model"
        booster.save_model(os.path.join(folder, file))
        score = float(booster.predict(xgb.DMatrix(request, feature_names=FEATURES))[0])
        summary["merchants"].append({
            "name": name,
            "file": f"{name}/{file}",
            "format": "json" if file.endswith(".json") else "binary",
            "trees": trees,
            "maxDepth": depth,
            "trainingRows": rows,
            "fraudRate": round(float(y[:rows].mean()), 4),
            "heldOutAuc": round(auc(y[rows:], booster.predict(test)), 4),
            "requestScore": score,
        })

    with open(os.path.join(HERE, "request.csv"), "w") as f:
        f.write(csv_row(REQUEST) + "\n")
    with open(os.path.join(HERE, "rows.csv"), "w") as f:
        for row in [REQUEST] + EXTRA_ROWS:
            f.write(csv_row(row) + "\n")
    with open(os.path.join(HERE, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(HERE) for f in fs)
    print(f"wrote {MERCHANTS} models to {HERE} ({total / 1e6:.2f} MB in all)")


if __name__ == "__main__":
    main()
