"""cosmo.kg"""
