"""Who may do what: tenants, integrator keys, clinician users, tokens, the append-only audit."""
