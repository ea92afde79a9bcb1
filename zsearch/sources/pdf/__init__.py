"""PDF reading: page layout, reading order, text repair, front matter, the Paper builder."""
