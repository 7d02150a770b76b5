"""cosmo.generation"""
