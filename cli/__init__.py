"""The `reachable` command: the top floor. Runs the bridge, the doctor, the rules tools, the
report, and the demo against the emulators."""
