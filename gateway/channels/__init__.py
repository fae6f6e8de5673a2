"""Delivery channels for recipients who are not reached over a peer network."""
