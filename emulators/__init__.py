"""Local emulators of X, Slack and Telegram: the props the tests and `reachable demo` play against.

They answer like the platforms' published specifications and recorded payloads (rate limits,
errors and all), so the real client libraries talk to them over HTTP and the adapter code under
test is the code that ships. A separate distribution (``emulators/pyproject.toml``): the runtime
package never contains or imports them, and they import nothing of Reachable.
"""
