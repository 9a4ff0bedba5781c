"""ganlib's benchmarks: the timing harness (``benchmarks.harness``), the experiments behind the defaults
(``benchmarks.experiments``), their results (``benchmarks/results/``) and the table generator
(``python -m benchmarks.tables``). Run each script as a module, e.g. ``python -m benchmarks.experiments.update_rule``."""
