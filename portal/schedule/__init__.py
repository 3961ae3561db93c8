"""Schedule menu (SPEC §10): weekly power limits pushed to stations as charging profiles."""
