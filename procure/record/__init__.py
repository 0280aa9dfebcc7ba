"""The open record: publication, the catalogue and its search, reuse, shared values, OCDS."""
