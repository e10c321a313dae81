"""Split accepted photos into train / val / test without leakage, plus the holdout of another site."""
