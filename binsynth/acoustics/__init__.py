"""Acoustics: HRTF sets, shoebox rooms (image sources), diffuse tails and BRIRs."""
