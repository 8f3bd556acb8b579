"""The applications the servers under test run; all answer the routes in ``common``."""
