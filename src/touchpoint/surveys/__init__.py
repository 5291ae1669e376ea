"""Surveys (NPS, CSAT, CES): sending, answers, scores and themes."""
