"""cosmo.gnn"""
