"""Built-in rules. Each module is a default plugin exposing ``cso_policy_rules``."""
