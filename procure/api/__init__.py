"""The read-only open-data interfaces: the JSON API with its OpenAPI document, and OCDS."""
