#!/usr/bin/python3
"""First load of the directors' dashboard with 50 plants x 90 days loaded.

Loads the data with `takt bench query --keep-data` (50 plants x 20 units x
90 days of hourly rollups, 5 regions; it prints its query figures, HTTP
included), serves it with `takt serve --http-listen`, and opens a region's
page in headless Chromium (Debian's chromium and chromium-driver through
python3-selenium) with the browser cache cleared before every load. Prints,
per view, the median and the worst of the loads:
  - load: the Navigation Timing load event end (HTML, CSS, scripts, Chart.js);
  - ready: the page's 'takt-ready' mark, when every panel has its figures
    (all API answers in and drawn), which is what a director waits for.

Usage: bench/dashboard_load.py TAKT_BINARY [SOURCE_DIR] [--loads N]
A benchmark that prints figures, not a test: it asserts nothing.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from browser import chromium, free_port, serving, wait_until_up  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description="First load of the dashboard, 50 plants x 90 days")
    parser.add_argument("takt", help="the takt binary")
    parser.add_argument("source", nargs="?", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."),
                        help="the source tree (its web/)")
    parser.add_argument("--loads", type=int, default=11, help="loads per view")
    args = parser.parse_args()
    takt, source, loads = args.takt, args.source, args.loads
    work = tempfile.mkdtemp(prefix="takt-dashboard-load-")
    data = os.path.join(work, "data")
    try:
        print("loading 50 plants x 20 units x 90 days (takt bench query --keep-data):", flush=True)
        subprocess.run([takt, "bench", "query", "--queries", "300", "--keep-data", data], check=True)
        grpc_port, http_port = free_port(), free_port()
        serve = [takt, "serve", "--insecure", "--data-dir", data, "--listen", f"127.0.0.1:{grpc_port}",
                 "--http-listen", f"127.0.0.1:{http_port}", "--http-static", os.path.join(source, "web")]
        with serving(serve, os.path.join(work, "serve.log")), chromium() as driver:
            time_loads(driver, f"http://127.0.0.1:{http_port}", loads)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def time_loads(driver, base, loads):
    wait_until_up(base + "/v1/regions")
    wait = WebDriverWait(driver, 60)
    views = {
        "region, last 14 days by day": "scope=regions%2Fregion-0&from=2026-03-21&to=2026-04-03&by=day&target=85",
        "region, 90 days by week": "scope=regions%2Fregion-0&from=2026-01-05&to=2026-04-04&by=week&target=85",
        "enterprise, 90 days by month": "scope=enterprise&from=2026-01-05&to=2026-04-04&by=month&target=85",
    }
    print(f"\nfirst load of the dashboard, headless Chromium, cache cleared, {loads} loads per view "
          f"(median / worst, ms):")
    for name, fragment in views.items():
        load_ms, ready_ms = [], []
        for _ in range(loads):
            driver.execute_cdp_cmd("Network.clearBrowserCache", {})
            driver.get("about:blank")
            driver.get(f"{base}/#{fragment}")
            wait.until(lambda d: d.execute_script("return performance.getEntriesByName('takt-ready').length") > 0
                       or d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "error")
            load, ready = driver.execute_script(
                "const n = performance.getEntriesByType('navigation')[0];"
                "const r = performance.getEntriesByName('takt-ready')[0];"
                "return [n.loadEventEnd, r ? r.startTime : -1];")
            load_ms.append(load)
            ready_ms.append(ready)
        print(f"  {name:32s} load {statistics.median(load_ms):6.0f} / {max(load_ms):6.0f}   "
              f"ready {statistics.median(ready_ms):6.0f} / {max(ready_ms):6.0f}")


if __name__ == "__main__":
    main()
