"""The ordering world (a priced catalog, a facility and its people) for the return tests."""

from tests.ordering.conftest import world  # noqa: F401 - shared fixture
