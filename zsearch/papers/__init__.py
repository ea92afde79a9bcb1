"""Papers as values: the Paper/Hit/Deletion model, canonical identity, and merging records of one paper."""
