"""The sequence language: the YAML model, its loader with FILE:LINE:COL errors, the checks, the
JSON Schema. Pure: imports no database, network or web library."""
