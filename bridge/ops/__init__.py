"""Running it: the go-live doctor, metrics, config reload, log safety, upkeep, memory and
the rules replay."""
