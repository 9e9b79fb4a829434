"""Schedule arithmetic, pure: send windows, business days and holidays, local time and zones."""
