"""Sites, floors, stations and outlets: the tree, its rules, scopes and settings."""
