"""The read-only JSON API over published records, and its OpenAPI 3.1 document."""
