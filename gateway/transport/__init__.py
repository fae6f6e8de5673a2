"""Exchange with peer networks: the seam (base.Transport) and its adapters."""
