"""The schema: peewee models and the numbered migrations that build them."""
