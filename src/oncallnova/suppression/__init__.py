"""Silences and maintenance windows: when alerts are stored but page nobody."""
