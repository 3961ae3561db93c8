"""Numbered schema migrations ``mNNNN_name.py``, each with ``up(db)`` and ``down(db)``."""
