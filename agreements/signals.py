"""A registrar grant on a school is created inactive when that school year's agreement is unsigned."""
