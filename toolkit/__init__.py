"""Registry submission validation, cohort building, survival analysis and reporting."""

__version__ = "0.1.0"
