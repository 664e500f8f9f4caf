"""Training module (TRL SFT on trace datasets)."""
