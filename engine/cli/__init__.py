"""The `kadenz` command line. One module per command group; main.py wires them together."""
