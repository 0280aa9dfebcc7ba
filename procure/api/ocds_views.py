"""OCDS 1.1 over HTTP: record packages, paginated release packages, the bulk download and
the local extension."""
