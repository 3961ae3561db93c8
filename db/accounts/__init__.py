"""People and their credentials: users, id tags, API tokens, passwords."""
