"""Assessors, conflicts, scores, moderation, ranking and decisions."""
