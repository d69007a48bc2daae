"""Test support used by every service's tests and by the dev launcher: real servers, never mocks."""
