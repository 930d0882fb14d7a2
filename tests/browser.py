"""What the browser test and the page-load benchmark share: free ports, a
`takt serve` that stops with its block, and headless Chromium (Debian's
chromium and chromium-driver through python3-selenium)."""
import contextlib
import socket
import subprocess
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url, seconds=20):
    """Until `url` answers (the server listens)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {seconds} s")


@contextlib.contextmanager
def serving(args, log_path):
    """`takt serve ARGS...` (args[0] the binary) for the block; its log to log_path."""
    with open(log_path, "w") as log:
        server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log)
        try:
            yield server
        finally:
            server.terminate()
            server.wait(timeout=60)


@contextlib.contextmanager
def chromium(*extra_args, console=False):
    """A headless Chromium for the block (console: keep the browser's log)."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1600", *extra_args):
        options.add_argument(arg)
    if console:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        yield driver
    finally:
        driver.quit()
