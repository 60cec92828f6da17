"""Built-in optional feature plugins: earning rules, campaign kinds."""
