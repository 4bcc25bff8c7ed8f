pytest_plugins = ["threadline.testing.fixtures"]
