"""Proposals, attachments, receipts and sealing."""
