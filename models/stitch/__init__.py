"""A segment cache as one streamed video: every frame exactly once, seams cross-faded, colour
drift anchored in Oklab to the first segment or the reference."""
