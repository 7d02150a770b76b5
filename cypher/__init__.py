"""cosmo.cypher"""
