"""Attune ingest service."""
