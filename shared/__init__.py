"""The platform's own common library: written once, used by every service."""
