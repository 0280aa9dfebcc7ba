"""Open data beyond OCDS: the catalogue as CSV, the Atom feeds, and the open-data page."""
