"""The second, independent benchmark data generator."""
