"""The ways in: their registry, the views and the answers every one of them shares."""
