"""The transactional outbox: e-mails written with the change, delivered by workers."""
