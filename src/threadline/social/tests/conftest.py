from threadline.social.tests.helpers import graph  # noqa: F401 - the local Graph API fixture
