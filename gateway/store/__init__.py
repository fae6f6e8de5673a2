"""Document store: the seam (base.Store) and its implementations."""
