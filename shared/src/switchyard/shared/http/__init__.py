"""HTTP conventions shared by every service (docs/http.md)."""
