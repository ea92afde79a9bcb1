"""Sources: one module per source; each yields Paper or RecordError instances."""
