"""Spec front end: loading YAML specs into plain, located data."""
