"""The plain-torch references, written the best way by hand."""
