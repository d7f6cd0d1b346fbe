"""Ville Intelligente: one door to every public service of a commune and its metropolis."""
