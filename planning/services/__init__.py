"""Everything that changes planning state: target sets (targets.py) and plans (plans.py)."""
