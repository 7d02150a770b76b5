"""cosmo.ingest"""
