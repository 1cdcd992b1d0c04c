"""Every state change of the forums, one module per area. Views, the API, consumers and
management commands call these and nothing else to write."""
