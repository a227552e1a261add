"""The usual script `mme stats` is measured against: boto3 get_metric_statistics, once per metric and statistic.

usage: python3 stats-boto3.py ENDPOINT_URL START END ENDPOINT [ENDPOINT ...]
Prints {endpoint: {name: value or null}} for the same 26 numbers `mme stats` reports (same names, same units:
microseconds converted to ms), each over the whole window as one period.
"""
import json
import os
import sys
from datetime import datetime

import boto3

SM, EP = "AWS/SageMaker", "/aws/sagemaker/Endpoints"
PLAN = [
    ("cache-hit", SM, "ModelCacheHit", "Average"), ("requests", SM, "ModelCacheHit", "SampleCount"),
    ("load-wait-avg", SM, "ModelLoadingWaitTime", "Average"), ("load-wait-max", SM, "ModelLoadingWaitTime", "Maximum"),
    ("load-wait-p99", SM, "ModelLoadingWaitTime", "p99"),
    ("download-avg", SM, "ModelDownloadingTime", "Average"), ("download-max", SM, "ModelDownloadingTime", "Maximum"),
    ("load-avg", SM, "ModelLoadingTime", "Average"), ("load-max", SM, "ModelLoadingTime", "Maximum"),
    ("unloads", SM, "ModelUnloadingTime", "SampleCount"), ("unload-avg", SM, "ModelUnloadingTime", "Average"),
    ("loaded-models", EP, "LoadedModelCount", "Average"), ("loaded-models-max", EP, "LoadedModelCount", "Maximum"),
    ("invocations", SM, "Invocations", "Sum"),
    ("latency-avg", SM, "ModelLatency", "Average"), ("latency-p99", SM, "ModelLatency", "p99"),
    ("overhead-avg", SM, "OverheadLatency", "Average"), ("overhead-p99", SM, "OverheadLatency", "p99"),
    ("errors-4xx", SM, "Invocation4XXErrors", "Sum"), ("errors-5xx", SM, "Invocation5XXErrors", "Sum"),
    ("cpu", EP, "CPUUtilization", "Average"), ("cpu-max", EP, "CPUUtilization", "Maximum"),
    ("memory", EP, "MemoryUtilization", "Average"), ("memory-max", EP, "MemoryUtilization", "Maximum"),
    ("disk", EP, "DiskUtilization", "Average"), ("disk-max", EP, "DiskUtilization", "Maximum"),
]
MICROSECONDS = {"ModelLoadingWaitTime", "ModelDownloadingTime", "ModelLoadingTime", "ModelUnloadingTime", "ModelLatency", "OverheadLatency"}


def main():
    url, start, end, endpoints = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    start = datetime.fromisoformat(start.replace("Z", "+00:00"))
    end = datetime.fromisoformat(end.replace("Z", "+00:00"))
    period = int((end - start).total_seconds())
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    cw = boto3.client("cloudwatch", endpoint_url=url, region_name=region)
    out = {}
    for endpoint in endpoints:
        dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": "AllTraffic"}]
        row = {}
        for name, namespace, metric, stat in PLAN:
            kind = {"ExtendedStatistics": [stat]} if stat.startswith("p") else {"Statistics": [stat]}
            points = cw.get_metric_statistics(Namespace=namespace, MetricName=metric, Dimensions=dims,
                                              StartTime=start, EndTime=end, Period=period, **kind)["Datapoints"]
            values = [p.get("ExtendedStatistics", {}).get(stat) if stat.startswith("p") else p.get(stat) for p in points]
            values = [v for v in values if v is not None]
            value = values[0] if values else None
            if value is not None and metric in MICROSECONDS and stat != "SampleCount":
                value = value / 1000
            row[name] = value
        out[endpoint] = row
    json.dump(out, sys.stdout)


main()
