"""Stand-alone checks run by make and CI: a bounded load check and a weak-secret check."""
