"""One module per Stripe resource the fake models: its store, operations and routes."""
