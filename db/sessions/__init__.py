"""Charging sessions read back: filters, pages, aggregates, dashboard figures."""
