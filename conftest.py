pytest_plugins = ["threadline.testing.fixtures", "threadline.web.shared_browser"]
