"""The pure domain core: state machines, rules, scoring. No I/O imports here."""
