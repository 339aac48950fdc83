"""Conditional densities: the parts SurVAE nodes use to model what they drop, add or propose."""
