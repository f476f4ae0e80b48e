"""One folder per platform: its client wrapper, converters and doctor checks (the emulators are
in ``emulators/``)."""
