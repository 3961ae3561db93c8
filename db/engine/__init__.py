"""The database engine: connection by URL, dialects, raw SQL, the group-commit store and
writer, WAL checkpoints, storage failures, bulk loading.
"""
