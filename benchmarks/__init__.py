"""Benchmarks: `./sy bench [-- name ...]`. Figures and ratios, never pass/fail."""
