"""Operations: the writer lock, saved searches (watches) and refresh."""
