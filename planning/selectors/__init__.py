"""Reading planning data, already filtered by what the user may see (org.access)."""
