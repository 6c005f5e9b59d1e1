"""Use cases: the only code that writes storage and publishes to the bus."""
