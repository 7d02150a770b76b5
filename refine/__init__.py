"""cosmo.refine"""
