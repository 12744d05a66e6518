"""The DreamActor Sampler's host-side engine: segment run, conditioning builders, run key."""
