"""Forms per audience; validation messages are written for the person filling them in."""
