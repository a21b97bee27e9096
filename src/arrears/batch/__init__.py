"""The end-of-day run as columnar steps over Polars frames (engines: local, spark)."""
