"""One module per configuration resource (or family of resources)."""
