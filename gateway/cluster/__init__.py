"""Scale-out: several processes on one PostgreSQL (presence, routed commands, events)."""
