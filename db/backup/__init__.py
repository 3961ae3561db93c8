"""Backups and restore: online copies while serving, retention, checksums, the in-use lock."""
