"""Calibration of a scenario to local data (``impactsim calibrate``)."""
