"""funnel-tui: a salesperson's own sales funnel in the terminal."""

__version__ = "0.1.0"
