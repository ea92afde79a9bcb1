"""Systematic reviews: clustering, theme labels, reports, exports and the search log."""
