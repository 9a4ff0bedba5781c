"""One-off experiments whose results back a default; each writes its rows to ``benchmarks/results/<name>.jsonl``."""
