"""cosmo.api"""
