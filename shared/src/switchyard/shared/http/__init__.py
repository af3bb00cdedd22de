"""HTTP conventions shared by every service (DESIGN section 5)."""
