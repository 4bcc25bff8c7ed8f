from threadline.testing.bytecode import keep_bytecode_outside_the_checkout

keep_bytecode_outside_the_checkout()  # before the plugins and test modules are imported (testing/bytecode.py)

pytest_plugins = ["threadline.testing.fixtures", "threadline.web.shared_browser"]
