"""`make bench` (`python -m bench [section ...]`): one module per section, each printing its own table."""
