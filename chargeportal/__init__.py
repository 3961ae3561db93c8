"""chargeportal package."""
