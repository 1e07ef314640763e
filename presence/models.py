"""Models of the presence app."""
