"""The song catalog: reading and browsing it, importing into it, editing it, its artists."""
