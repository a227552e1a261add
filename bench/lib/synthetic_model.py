"""A synthetic XGBoost model for the benchmarks: full-depth binary:logistic trees with random splits, written as an
xgboost JSON document and loaded (so validated) by xgboost. Training one this size on 2 cores takes minutes."""
import json
import os

import numpy as np
import xgboost as xgb


def synthetic_booster(rng, trees, depth, features, work):
    n_nodes = 2 ** (depth + 1) - 1
    n_inner = 2 ** depth - 1

    def tree(i):
        idx = np.arange(n_nodes)
        inner = idx < n_inner
        left = np.where(inner, 2 * idx + 1, -1)
        right = np.where(inner, 2 * idx + 2, -1)
        parents = np.where(idx == 0, 2147483647, (idx - 1) // 2)
        cond = np.where(inner, rng.normal(size=n_nodes) * 0.8, rng.normal(size=n_nodes) * 0.05).astype(np.float32)
        feat = np.where(inner, rng.integers(0, features, size=n_nodes), 0)
        dleft = np.where(inner, rng.integers(0, 2, size=n_nodes), 0)
        hess = np.maximum(1.0, 4096.0 / 2.0 ** np.floor(np.log2(idx + 1))).astype(np.float32)
        loss = np.where(inner, rng.random(size=n_nodes) * 10, 0).astype(np.float32)
        return {
            "base_weights": cond.tolist(), "categories": [], "categories_nodes": [], "categories_segments": [],
            "categories_sizes": [], "default_left": dleft.tolist(), "id": i, "left_children": left.tolist(),
            "loss_changes": loss.tolist(), "parents": parents.tolist(), "right_children": right.tolist(),
            "split_conditions": cond.tolist(), "split_indices": feat.tolist(), "split_type": [0] * n_nodes,
            "sum_hessian": hess.tolist(),
            "tree_param": {"num_deleted": "0", "num_feature": str(features), "num_nodes": str(n_nodes),
                           "size_leaf_vector": "0"},
        }

    doc = {"learner": {
        "attributes": {}, "feature_names": [], "feature_types": [],
        "gradient_booster": {"model": {"gbtree_model_param": {"num_parallel_tree": "1", "num_trees": str(trees),
                                                              "size_leaf_vector": "0"},
                                       "tree_info": [0] * trees, "trees": [tree(i) for i in range(trees)]},
                             "name": "gbtree"},
        "learner_model_param": {"base_score": "5E-1", "boost_from_average": "1", "num_class": "0",
                                "num_feature": str(features), "num_target": "1"},
        "objective": {"name": "binary:logistic", "reg_loss_param": {"scale_pos_weight": "1"}}},
        "version": [1, 7, 4]}
    draft = os.path.join(work, "draft.json")
    with open(draft, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    del doc
    booster = xgb.Booster(model_file=draft)
    os.remove(draft)
    return booster
