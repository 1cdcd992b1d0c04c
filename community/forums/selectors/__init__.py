"""Every read of the forums, one module per area, permission-checked through
community.forums.access."""
