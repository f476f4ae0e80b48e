"""One folder per platform; each brings its client wrapper, converters and emulator."""
