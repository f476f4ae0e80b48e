"""The chaos tests drive the same deployment as the end-to-end tests."""

from tests.e2e.conftest import deployment, emulators

__all__ = ["deployment", "emulators"]
