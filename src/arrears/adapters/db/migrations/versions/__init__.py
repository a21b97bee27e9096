"""Migration scripts, one a schema revision, written by hand to match `tables.py`."""
