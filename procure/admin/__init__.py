"""Platform administration: verifying organisations, the audit log, undelivered e-mail."""
