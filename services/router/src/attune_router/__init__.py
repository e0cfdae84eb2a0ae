"""Attune."""
