"""In-package fakes for the ports, shared by unit tests and the embedded demo."""
