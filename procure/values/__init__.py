"""Shared value frameworks: the criteria every challenge is judged against."""
