"""Measuring the ways in: cost per request, bytes, scale, cleanup and what survives what."""
