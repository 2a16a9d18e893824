"""Forms of the star-rating cycle, one module per views module; services do the real checks."""
