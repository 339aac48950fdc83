"""Conditioner networks: the neural nets that parameterize coupling and other layers."""
