"""Feed files (CSV, Parquet): read in batches, every row checked before anything is stored."""
