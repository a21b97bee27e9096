"""`arrears serve`: the web workbench (pages) and the JSON API under /api/v1."""
