"""Benchmarks: the gateway against a baseline central system under the same load."""
