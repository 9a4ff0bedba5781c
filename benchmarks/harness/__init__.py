"""The timing harness: throughput against the TensorFlow DCGAN tutorial, profiles, ``fit()`` and metric timings."""
