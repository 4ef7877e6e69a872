"""Tools run by make, CI or by hand: the load and weak-secret checks, and generated files."""
