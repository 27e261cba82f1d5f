"""Rules and vocabulary every layer shares: field bounds, name rules, ids. No I/O."""
